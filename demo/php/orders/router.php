<?php
/*
 * Router for PHP's built-in server:
 *   php -S 127.0.0.1:18081 -t demo/php/orders demo/php/orders/router.php
 * Only /orders.php exists (SOAP endpoint and ?wsdl); everything else, the WSDL file
 * included, is a 404, as behind the original box's web server.
 */
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if ($path === '/orders.php') {
    require __DIR__ . '/orders.php';
    return true;
}
http_response_code(404);
header('Content-Type: text/plain; charset=utf-8');
echo "Not Found\n";
return true;
