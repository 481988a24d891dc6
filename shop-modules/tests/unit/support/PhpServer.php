<?php

namespace Shopbridge\Tests;

/**
 * `php -S 127.0.0.1:<port> <router>` for a test, stopped with the object.
 */
final class PhpServer
{
    /** @var resource */
    private $process;
    /** @var int */
    public $port;

    public function __construct(string $router, array $env, ?int $port = null)
    {
        $this->port = $port !== null ? $port : self::freePort();
        $command = [PHP_BINARY, '-S', '127.0.0.1:' . $this->port, $router];
        $this->process = proc_open($command, [0 => ['pipe', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes, null, $env + getenv());
        if (!is_resource($this->process)) {
            throw new \RuntimeException('php -S did not start');
        }
        $deadline = microtime(true) + 10;
        while (microtime(true) < $deadline) {
            $socket = @fsockopen('127.0.0.1', $this->port, $errno, $errstr, 0.2);
            if ($socket !== false) {
                fclose($socket);
                return;
            }
            usleep(50000);
        }
        throw new \RuntimeException('php -S is not listening on ' . $this->port);
    }

    public static function freePort(): int
    {
        $socket = stream_socket_server('tcp://127.0.0.1:0');
        $name = stream_socket_get_name($socket, false);
        fclose($socket);
        return (int) substr($name, strrpos($name, ':') + 1);
    }

    public function url(): string
    {
        return 'http://127.0.0.1:' . $this->port;
    }

    public function stop(): void
    {
        if (is_resource($this->process)) {
            proc_terminate($this->process);
            proc_close($this->process);
        }
    }

    public function __destruct()
    {
        $this->stop();
    }
}
