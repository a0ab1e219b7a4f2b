/**
 * Word lists for a fictional Chinese retailer. Chinese names come with their pinyin so that
 * emails look like the ones real customers pick (`zhangwei88@163.com`). Common names are
 * listed on purpose: many different people are called 张伟, so a name is never an identity.
 * Every string that can reach the GBK-encoded ticket API is within GBK.
 */

/** [surname, pinyin, relative frequency]. */
export const SURNAMES: ReadonlyArray<readonly [string, string, number]> = [
  ['王', 'wang', 10], ['李', 'li', 10], ['张', 'zhang', 9], ['刘', 'liu', 7], ['陈', 'chen', 6],
  ['杨', 'yang', 4], ['黄', 'huang', 3], ['赵', 'zhao', 3], ['吴', 'wu', 3], ['周', 'zhou', 3],
  ['徐', 'xu', 2], ['孙', 'sun', 2], ['马', 'ma', 2], ['朱', 'zhu', 2], ['胡', 'hu', 2],
  ['郭', 'guo', 2], ['何', 'he', 2], ['高', 'gao', 2], ['林', 'lin', 2], ['罗', 'luo', 1],
  ['郑', 'zheng', 1], ['梁', 'liang', 1], ['谢', 'xie', 1], ['宋', 'song', 1], ['唐', 'tang', 1],
  ['欧阳', 'ouyang', 0.3], ['司马', 'sima', 0.1], ['诸葛', 'zhuge', 0.1],
];

/** [given name, pinyin]; the first ones are the famously frequent 伟, 芳, 娜… */
export const GIVEN_NAMES: ReadonlyArray<readonly [string, string]> = [
  ['伟', 'wei'], ['芳', 'fang'], ['娜', 'na'], ['敏', 'min'], ['静', 'jing'], ['丽', 'li'],
  ['强', 'qiang'], ['磊', 'lei'], ['军', 'jun'], ['洋', 'yang'], ['勇', 'yong'], ['艳', 'yan'],
  ['杰', 'jie'], ['娟', 'juan'], ['涛', 'tao'], ['明', 'ming'], ['超', 'chao'], ['秀英', 'xiuying'],
  ['霞', 'xia'], ['平', 'ping'], ['刚', 'gang'], ['桂英', 'guiying'], ['建华', 'jianhua'],
  ['志强', 'zhiqiang'], ['晓明', 'xiaoming'], ['雨涵', 'yuhan'], ['子轩', 'zixuan'], ['欣怡', 'xinyi'],
  ['浩然', 'haoran'], ['梓涵', 'zihan'], ['思远', 'siyuan'], ['佳怡', 'jiayi'], ['俊杰', 'junjie'],
];

/** Where customers live: province, city, postcode (null in Hong Kong), districts. */
export const PLACES: ReadonlyArray<readonly [string, string, string | null, readonly string[]]> = [
  ['广东省', '深圳市', '518000', ['南山区', '福田区', '宝安区', '龙岗区']],
  ['广东省', '广州市', '510000', ['天河区', '越秀区', '海珠区']],
  ['北京市', '北京市', '100000', ['朝阳区', '海淀区', '东城区']],
  ['上海市', '上海市', '200000', ['浦东新区', '徐汇区', '静安区']],
  ['浙江省', '杭州市', '310000', ['西湖区', '滨江区', '余杭区']],
  ['江苏省', '南京市', '210000', ['鼓楼区', '玄武区']],
  ['江苏省', '苏州市', '215000', ['姑苏区', '工业园区']],
  ['四川省', '成都市', '610000', ['武侯区', '锦江区', '高新区']],
  ['湖北省', '武汉市', '430000', ['洪山区', '江汉区']],
  ['陕西省', '西安市', '710000', ['雁塔区', '碑林区']],
  ['福建省', '厦门市', '361000', ['思明区', '湖里区']],
  ['山东省', '青岛市', '266000', ['市南区', '崂山区']],
  ['香港特别行政区', '香港', null, ['九龙', '港岛']],
];

export const ROADS: readonly string[] = [
  '科技园路', '人民路', '中山路', '解放路', '建设路', '长江路', '文三路', '南京西路', '天府大道', '珞喻路',
];

/** Mobile prefixes of the three carriers. */
export const MOBILE_PREFIXES: readonly string[] = [
  '130', '131', '132', '133', '135', '136', '137', '138', '139', '150', '151', '152', '153', '155',
  '156', '158', '159', '177', '180', '181', '185', '186', '187', '188', '189', '199',
];

export const CN_EMAIL_DOMAINS: readonly string[] = ['163.com', '126.com', 'sina.com', 'foxmail.com', 'outlook.com'];
export const LATIN_EMAIL_DOMAINS: readonly string[] = ['gmail.com', 'outlook.com', 'yahoo.com', 'icloud.com'];

/** [sku, name, unit price in CNY]. */
export const PRODUCTS: ReadonlyArray<readonly [string, string, number]> = [
  ['SKU-10001', '无线蓝牙耳机', 199], ['SKU-10002', '保温杯 500ml', 89], ['SKU-10003', '纯棉T恤 白色 L', 79],
  ['SKU-10004', '机械键盘（青轴）', 359], ['SKU-10005', '瑜伽垫 加厚', 129], ['SKU-10006', '电动牙刷', 249],
  ['SKU-10007', '手机壳 透明', 29.9], ['SKU-10008', '空气炸锅 4L', 399], ['SKU-10009', '双肩背包', 189],
  ['SKU-10010', '运动跑鞋 42码', 499], ['SKU-10011', '绿茶 250g 礼盒', 158], ['SKU-10012', '台灯 护眼', 139.5],
  ['SKU-10013', '充电宝 20000mAh', 149], ['SKU-10014', '羽绒服 黑色 XL', 899], ['SKU-10015', '儿童积木 300粒', 219],
];

export const ORDER_STATUSES: ReadonlyArray<readonly [string, number]> = [
  ['COMPLETED', 50], ['SHIPPED', 15], ['PAID', 12], ['PENDING_PAYMENT', 5], ['CANCELLED', 10], ['REFUNDED', 8],
];

/** Ticket texts; `{order}` is replaced by one of the person's order numbers or dropped. */
export const TICKET_TEXTS_ZH: ReadonlyArray<readonly [string, string]> = [
  ['订单{order}还没有发货', '您好，我的订单{order}已经付款三天了，到现在还没有发货，麻烦帮忙催一下。谢谢！'],
  ['申请退款', '商品收到后发现和描述不符，申请退款。订单号：{order}。'],
  ['商品质量问题', '收到的商品有破损（见附件图片），希望换一个新的～'],
  ['发票开具', '请帮我开具增值税普通发票，抬头：个人。订单{order}。'],
  ['修改收货地址', '下单时地址填错了，请改成“南山区科技园路88号”，谢谢。'],
  ['会员积分没有到账', '上周的订单积分到现在还没有到账，请核实。'],
  ['优惠券无法使用', '满200减30的优惠券在结算页显示“不可用”，是什么原因？'],
  ['物流信息一直没更新', '物流信息停在“已揽收”五天了……订单{order}'],
  ['账号无法登录', '手机收不到验证码，账号登录不了，急！'],
  ['【紧急】订单重复扣款', '同一个订单{order}被扣了两次款，共￥398.00，请尽快处理退还。'],
  ['咨询：产品保修期限', '请问这款商品的保修期是多久？需要保留发票吗？'],
  ['退货运费谁承担？', '七天无理由退货的运费是我出还是商家出？'],
];

export const TICKET_TEXTS_EN: ReadonlyArray<readonly [string, string]> = [
  ['Order {order} not delivered', 'Hi, my order {order} was paid last week and has not arrived yet. Could you check?'],
  ['Refund request', 'The item does not match the description, I would like a refund for {order}.'],
  ['Invoice needed', 'Please send me a VAT invoice for order {order}. Thanks.'],
  ['Cannot log in', 'I do not receive the SMS code, so I cannot log in.'],
];

/** WeChat-style nicknames; emoji are fine here (MongoDB stores UTF-8, never GBK). */
export const NICKNAME_DECORATIONS: readonly string[] = ['', '', '', '🌸', '🐱', '~', '_', '😊', '★', '2024'];
