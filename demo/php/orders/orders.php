<?php
/**
 * orders_soap — the retailer's legacy order service (订单服务).
 *
 * SOAP 1.1 over HTTP, document/literal wrapped, described by the hand-written orders.wsdl
 * (targetNamespace urn:retail:orders).
 *
 *   GET  /orders.php?wsdl   the WSDL; soap:address is rewritten to http://<Host header>/orders.php
 *   POST /orders.php        SOAP requests (SOAPAction urn:retail:orders#<operation>)
 *
 * Operations
 *   listOrdersUpdatedSince(since: dateTime, pageToken?: string, pageSize?: int = 100)
 *       -> { orders: { order: Order[] }, nextPageToken?: string }
 *       Orders with updatedAt >= since, ordered by (updatedAt, orderNo); updatedAt carries
 *       the microseconds that order is by (none when whole seconds). nextPageToken is
 *       opaque (base64 of the last row's "updated_at|order_no") and absent on the last page;
 *       paging on it never skips or repeats rows that share one updatedAt.
 *       A since without offset is Asia/Shanghai time.
 *   getOrder(orderNo: string) -> { order: Order }        (with lines)
 *   getOrderStatus(orderNo: string) -> { orderNo, status, updatedAt }
 *
 * Faults (SoapFault, HTTP 500)
 *   faultcode Client: unknown orderNo, pageSize outside 1..1000, malformed since or pageToken
 *   faultcode Server: the database is unreachable or failed
 *
 * Environment: ESTATE_PG_DSN (e.g. pgsql:host=127.0.0.1;port=15432;dbname=junction_estate),
 * ESTATE_PG_USER, ESTATE_PG_PASSWORD.
 */

// A warning printed into a SOAP envelope breaks every client: log, never display.
ini_set('display_errors', '0');
error_reporting(E_ALL);

define('ORDERS_WSDL', __DIR__ . '/orders.wsdl');
define('ORDERS_DEFAULT_PAGE_SIZE', 100);
define('ORDERS_MAX_PAGE_SIZE', 1000);

// updatedAt goes out at the precision it is sorted and paged by (microseconds, trailing zeros
// dropped as in canonical xs:dateTime: whole seconds stay 10:00:05+08:00). At whole seconds,
// two orders changed within one second came out of order, and a client resuming after
// (updatedAt, orderNo) skipped the one with the smaller orderNo.
$ORDER_COLUMNS = "order_no, customer_no, contact_phone, status, total_amount::text AS total_amount, currency,
    to_char(created_at, 'YYYY-MM-DD\"T\"HH24:MI:SSTZH:TZM') AS created_at,
    to_char(updated_at, 'YYYY-MM-DD\"T\"HH24:MI:SS') || rtrim(rtrim(to_char(updated_at, '.US'), '0'), '.')
        || to_char(updated_at, 'TZH:TZM') AS updated_at,
    to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS cursor_ts";

function orders_db()
{
    static $db = null;
    if ($db === null) {
        $dsn = getenv('ESTATE_PG_DSN');
        if ($dsn === false || $dsn === '') {
            throw new SoapFault('Server', 'ESTATE_PG_DSN is not set');
        }
        $db = new PDO($dsn, (string) getenv('ESTATE_PG_USER'), (string) getenv('ESTATE_PG_PASSWORD'),
            array(PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION, PDO::ATTR_DEFAULT_FETCH_MODE => PDO::FETCH_ASSOC));
        // Times go out as Shanghai local time with +08:00, as the original Java client expects.
        $db->exec("SET TIME ZONE 'Asia/Shanghai'");
    }
    return $db;
}

/** Runs an operation; database errors become Server faults instead of a blank HTTP 500. */
function orders_guard($fn)
{
    try {
        return $fn();
    } catch (PDOException $e) {
        error_log('orders_soap: ' . $e->getMessage());
        throw new SoapFault('Server', 'database error: ' . $e->getCode());
    }
}

/** since (xs:dateTime) -> a string PostgreSQL casts to timestamptz, or a Client fault. */
function orders_parse_since($since)
{
    $re = '/^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?$/';
    if (!is_string($since) || !preg_match($re, $since, $m)
        || !checkdate((int) $m[2], (int) $m[3], (int) $m[1]) || $m[4] > 23 || $m[5] > 59 || $m[6] > 59) {
        throw new SoapFault('Client', 'since must be an xs:dateTime, e.g. 2025-01-01T00:00:00+08:00');
    }
    return isset($m[8]) && $m[8] !== '' ? $since : $since . '+08:00';
}

function orders_encode_token($row)
{
    return base64_encode($row['cursor_ts'] . '|' . $row['order_no']);
}

/** pageToken -> array(cursor_ts, order_no), or a Client fault. */
function orders_decode_token($token)
{
    $raw = base64_decode((string) $token, true);
    $parts = $raw === false ? array() : explode('|', $raw, 2);
    if (count($parts) !== 2 || !preg_match('/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/', $parts[0])
        || !preg_match('/^[A-Za-z0-9_-]{1,64}$/', $parts[1])) {
        throw new SoapFault('Client', 'pageToken is malformed: pass nextPageToken back unchanged');
    }
    return $parts;
}

function orders_check_order_no($req)
{
    $no = isset($req->orderNo) ? trim((string) $req->orderNo) : '';
    if ($no === '' || strlen($no) > 64) {
        throw new SoapFault('Client', 'orderNo is required');
    }
    return $no;
}

/** Lines of some orders, keyed by order_no. */
function orders_lines($orderNos)
{
    $byOrder = array();
    if (count($orderNos) === 0) {
        return $byOrder;
    }
    $marks = implode(',', array_fill(0, count($orderNos), '?'));
    $st = orders_db()->prepare("SELECT order_no, line_no, sku, name, qty, unit_price::text AS unit_price
        FROM orders_legacy.order_lines WHERE order_no IN ($marks) ORDER BY order_no, line_no");
    $st->execute(array_values($orderNos));
    foreach ($st->fetchAll() as $l) {
        $byOrder[$l['order_no']][] = array('lineNo' => (int) $l['line_no'], 'sku' => $l['sku'], 'name' => $l['name'],
            'qty' => (int) $l['qty'], 'unitPrice' => $l['unit_price']);
    }
    return $byOrder;
}

/** A database row as the WSDL's Order; optional elements are left out when null. */
function orders_to_soap($row, $lines)
{
    $o = array('orderNo' => $row['order_no']);
    if ($row['customer_no'] !== null) {
        $o['customerNo'] = $row['customer_no'];
    }
    if ($row['contact_phone'] !== null) {
        $o['contactPhone'] = $row['contact_phone'];
    }
    $o['status'] = $row['status'];
    $o['totalAmount'] = $row['total_amount'];
    $o['currency'] = $row['currency'];
    $o['createdAt'] = $row['created_at'];
    $o['updatedAt'] = $row['updated_at'];
    $o['lines'] = array('line' => isset($lines[$row['order_no']]) ? $lines[$row['order_no']] : array());
    return $o;
}

function orders_find($orderNo)
{
    global $ORDER_COLUMNS;
    $st = orders_db()->prepare("SELECT $ORDER_COLUMNS FROM orders_legacy.orders WHERE order_no = ?");
    $st->execute(array($orderNo));
    $row = $st->fetch();
    if ($row === false) {
        throw new SoapFault('Client', 'order not found: ' . $orderNo);
    }
    return $row;
}

function listOrdersUpdatedSince($req)
{
    global $ORDER_COLUMNS;
    $since = orders_parse_since(isset($req->since) ? $req->since : null);
    $size = isset($req->pageSize) ? $req->pageSize : ORDERS_DEFAULT_PAGE_SIZE;
    if (!is_int($size) || $size < 1 || $size > ORDERS_MAX_PAGE_SIZE) {
        throw new SoapFault('Client', 'pageSize must be between 1 and ' . ORDERS_MAX_PAGE_SIZE);
    }
    $after = isset($req->pageToken) && $req->pageToken !== '' ? orders_decode_token($req->pageToken) : null;
    return orders_guard(function () use ($since, $size, $after, $ORDER_COLUMNS) {
        $sql = "SELECT $ORDER_COLUMNS FROM orders_legacy.orders WHERE updated_at >= CAST(? AS timestamptz)";
        $args = array($since);
        if ($after !== null) {
            // Row comparison on the (updated_at, order_no) index: tie-safe keyset paging.
            $sql .= ' AND (updated_at, order_no) > (CAST(? AS timestamptz), ?)';
            $args[] = $after[0];
            $args[] = $after[1];
        }
        // orders.updated_at, not the to_char() column of the same name that ORDER BY would
        // otherwise pick: sorting that text read and sorted every later row for each page,
        // and at second precision it disagreed with the keyset above.
        $sql .= ' ORDER BY orders.updated_at, orders.order_no LIMIT ' . ($size + 1);
        $st = orders_db()->prepare($sql);
        $st->execute($args);
        $rows = $st->fetchAll();
        $next = null;
        if (count($rows) > $size) {
            array_pop($rows);
            $next = orders_encode_token($rows[count($rows) - 1]);
        }
        $nos = array();
        foreach ($rows as $r) {
            $nos[] = $r['order_no'];
        }
        $lines = orders_lines($nos);
        $orders = array();
        foreach ($rows as $r) {
            $orders[] = orders_to_soap($r, $lines);
        }
        $resp = array('orders' => array('order' => $orders));
        if ($next !== null) {
            $resp['nextPageToken'] = $next;
        }
        return $resp;
    });
}

function getOrder($req)
{
    $no = orders_check_order_no($req);
    return orders_guard(function () use ($no) {
        $row = orders_find($no);
        return array('order' => orders_to_soap($row, orders_lines(array($no))));
    });
}

function getOrderStatus($req)
{
    $no = orders_check_order_no($req);
    return orders_guard(function () use ($no) {
        $row = orders_find($no);
        return array('orderNo' => $row['order_no'], 'status' => $row['status'], 'updatedAt' => $row['updated_at']);
    });
}

$method = isset($_SERVER['REQUEST_METHOD']) ? $_SERVER['REQUEST_METHOD'] : 'GET';
if ($method === 'GET' || $method === 'HEAD') {
    if (isset($_GET['wsdl']) || isset($_GET['WSDL'])) {
        $host = isset($_SERVER['HTTP_HOST']) ? $_SERVER['HTTP_HOST'] : '127.0.0.1';
        // The Host header ends up in the document: accept host[:port] and nothing else.
        if (!preg_match('/^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$/', $host)) {
            $host = '127.0.0.1';
        }
        header('Content-Type: text/xml; charset=utf-8');
        echo str_replace('http://localhost/orders.php', 'http://' . $host . '/orders.php', file_get_contents(ORDERS_WSDL));
        exit;
    }
    http_response_code(405);
    header('Allow: POST');
    header('Content-Type: text/plain; charset=utf-8');
    echo "OrderService: POST SOAP 1.1 requests here; the WSDL is at ?wsdl\n";
    exit;
}

$server = new SoapServer(ORDERS_WSDL, array(
    'soap_version' => SOAP_1_1,
    'encoding' => 'UTF-8',
    // Per-process memory cache: parsing the WSDL on every request is wasted work.
    'cache_wsdl' => WSDL_CACHE_MEMORY,
));
$server->addFunction(array('listOrdersUpdatedSince', 'getOrder', 'getOrderStatus'));
$server->handle();
