<?php
/**
 * tickets_php — 客服工单系统 API (legacy, written for PHP 5.x; runs unchanged on PHP 8.2).
 *
 * GET /api.php?m=ticket&a=list&page=1&size=200&updated_since=2025-01-01%2000:00:00&appkey=K&ts=T&sign=S
 * GET /api.php?m=ticket&a=get&id=100001&appkey=K&ts=T&sign=S
 *
 * Parameters
 *   m=ticket         module (the only one)
 *   a=list|get       action
 *   page, size       list only; page from 1 (default 1), size default 20, at most 500
 *   updated_since    list only; "Y-m-d H:i:s" Asia/Shanghai; returns updated_at >= updated_since
 *   id               get only
 *   appkey           the caller's key (env TICKETS_APPKEY)
 *   ts               unix time in seconds; only signed, not checked for freshness
 *   sign             the signature, see below
 *
 * Signature (签名算法)
 *   1. take every query parameter except sign, with its URL-decoded value (empty values too);
 *   2. sort them by key, byte-wise ascending (ksort SORT_STRING);
 *   3. join them as key=value with "&" (no URL encoding);
 *   4. append the secret (env TICKETS_SECRET) directly, without a separator;
 *   5. sign = md5 of that string, 32 lower-case hex digits (upper case is accepted).
 *   e.g. a=list&appkey=demo-app&m=ticket&page=1&size=2&ts=1767196800 + secret
 *
 * Responses: HTTP 200, Content-Type: application/json; charset=GBK, body encoded in GBK.
 *   {"code":0,"msg":"ok","data":{"list":[...],"total":"N"}}     a=list, ordered by (updated_at, id)
 *   {"code":0,"msg":"ok","data":{...ticket...}}                a=get
 *   Numbers are strings; dates "Y-m-d H:i:s" Asia/Shanghai; absent values null.
 *   code 1001 签名错误 (sign missing or wrong), 1002 appkey无效 (missing or unknown appkey),
 *   1003 参数错误 (unknown m/a, missing ts, bad updated_since or id, size > 500),
 *   1004 工单不存在 (a=get with an unknown id); data is null.
 *
 * Known defect kept on purpose (the original had it too): page and size are used in
 * arithmetic and SQL unchecked. A non-numeric page or size (size=abc, page=x), page < 1
 * (page=0, page=-1) or size < 0 ends in a PHP "Fatal error" HTML page with HTTP 500.
 *
 * Environment: ESTATE_PG_DSN, ESTATE_PG_USER, ESTATE_PG_PASSWORD, TICKETS_APPKEY, TICKETS_SECRET.
 */

error_reporting(E_ALL);
// As on the original server: errors are displayed, in HTML.
ini_set('display_errors', '1');
ini_set('html_errors', '1');
date_default_timezone_set('Asia/Shanghai');

// Buffer everything so a fatal error can still turn into a 500 (see api_shutdown).
ob_start();
register_shutdown_function('api_shutdown');

function api_shutdown()
{
    $e = error_get_last();
    if ($e !== null && in_array($e['type'], array(E_ERROR, E_PARSE, E_CORE_ERROR, E_COMPILE_ERROR, E_USER_ERROR))) {
        if (!headers_sent()) {
            // PHP answers 200 when it displays the error; monitoring needs to see a failure.
            http_response_code(500);
            header('Content-Type: text/html; charset=UTF-8');
        }
    }
}

function api_db()
{
    static $db = null;
    if ($db === null) {
        $db = new PDO(getenv('ESTATE_PG_DSN'), getenv('ESTATE_PG_USER'), getenv('ESTATE_PG_PASSWORD'));
        $db->setAttribute(PDO::ATTR_ERRMODE, PDO::ERRMODE_EXCEPTION);
        $db->setAttribute(PDO::ATTR_DEFAULT_FETCH_MODE, PDO::FETCH_ASSOC);
    }
    return $db;
}

function api_output($data)
{
    header('Content-Type: application/json; charset=GBK');
    $json = json_encode($data, JSON_UNESCAPED_UNICODE);
    echo mb_convert_encoding($json, 'GBK', 'UTF-8');
    exit;
}

function api_error($code, $msg)
{
    api_output(array('code' => $code, 'msg' => $msg, 'data' => null));
}

function api_sign($params, $secret)
{
    unset($params['sign']);
    ksort($params, SORT_STRING);
    $pairs = array();
    foreach ($params as $k => $v) {
        $pairs[] = $k . '=' . $v;
    }
    return md5(implode('&', $pairs) . $secret);
}

/** A database row with every value as a string (or null), as the PHP 5 mysql driver did. */
function api_ticket($row)
{
    $t = array();
    foreach ($row as $k => $v) {
        $t[$k] = $v === null ? null : (string) $v;
    }
    return $t;
}

$TICKET_FIELDS = "id, subject, body, status, priority, customer_email, customer_phone, shop_account_id,
    to_char(created_at, 'YYYY-MM-DD HH24:MI:SS') AS created_at, to_char(updated_at, 'YYYY-MM-DD HH24:MI:SS') AS updated_at";

$params = $_GET;
foreach ($params as $k => $v) {
    if (is_array($v)) {
        api_error(1003, '参数错误');
    }
}

$apps = array();
if (getenv('TICKETS_APPKEY')) {
    $apps[getenv('TICKETS_APPKEY')] = (string) getenv('TICKETS_SECRET');
}
$appkey = isset($params['appkey']) ? $params['appkey'] : '';
if ($appkey === '' || !isset($apps[$appkey])) {
    api_error(1002, 'appkey无效');
}
$sign = isset($params['sign']) ? strtolower($params['sign']) : '';
if ($sign === '' || !hash_equals(api_sign($params, $apps[$appkey]), $sign)) {
    api_error(1001, '签名错误');
}

$m = isset($params['m']) ? $params['m'] : '';
$a = isset($params['a']) ? $params['a'] : '';
if ($m !== 'ticket' || !isset($params['ts']) || !ctype_digit($params['ts'])) {
    api_error(1003, '参数错误');
}

if ($a === 'get') {
    $id = isset($params['id']) ? $params['id'] : '';
    if (!ctype_digit($id) || strlen($id) > 18) {
        api_error(1003, '参数错误: id');
    }
    $st = api_db()->prepare("SELECT $TICKET_FIELDS FROM tickets_legacy.tickets WHERE id = ?");
    $st->execute(array($id));
    $row = $st->fetch();
    if ($row === false) {
        api_error(1004, '工单不存在');
    }
    api_output(array('code' => 0, 'msg' => 'ok', 'data' => api_ticket($row)));
}

if ($a === 'list') {
    $since = isset($params['updated_since']) ? $params['updated_since'] : '1970-01-01 00:00:00';
    $d = DateTime::createFromFormat('Y-m-d H:i:s', $since);
    if ($d === false || $d->format('Y-m-d H:i:s') !== $since) {
        api_error(1003, '参数错误: updated_since');
    }
    $page = isset($params['page']) ? $params['page'] : 1;
    $size = isset($params['size']) ? $params['size'] : 20;
    $offset = ($page - 1) * $size;  // PHP 5 turned "abc" into 0 here; PHP 8 throws a TypeError
    if ($size > 500) {
        api_error(1003, '参数错误: size不能超过500');
    }
    $db = api_db();
    $st = $db->prepare('SELECT count(*) FROM tickets_legacy.tickets WHERE updated_at >= ?');
    $st->execute(array($since));
    $total = $st->fetchColumn();
    $st = $db->prepare("SELECT $TICKET_FIELDS FROM tickets_legacy.tickets WHERE updated_at >= ?
        ORDER BY tickets.updated_at, tickets.id LIMIT ? OFFSET ?");  // the column, not the to_char() alias: the index serves it
    $st->bindValue(1, $since);
    $st->bindValue(2, $size);
    $st->bindValue(3, $offset);
    $st->execute();  // negative LIMIT or OFFSET: uncaught PDOException, a fatal error
    $list = array();
    foreach ($st->fetchAll() as $row) {
        $list[] = api_ticket($row);
    }
    api_output(array('code' => 0, 'msg' => 'ok', 'data' => array('list' => $list, 'total' => (string) $total)));
}

api_error(1003, '参数错误');
