<?php
/*
 * Router for PHP's built-in server:
 *   php -S 127.0.0.1:18082 -t demo/php/tickets demo/php/tickets/router.php
 * Only /api.php exists; everything else is a 404.
 */
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if ($path === '/api.php') {
    require __DIR__ . '/api.php';
    return true;
}
http_response_code(404);
header('Content-Type: text/html; charset=GBK');
echo "<h1>404 Not Found</h1>\n";
return true;
