// Non-blocking TCP socket calls for realio::Host: listen, connect, accept.
// Every socket made here is non-blocking, close-on-exec, and (connections)
// TCP_NODELAY, since the stream machines send small latency-sensitive frames.
#pragma once

#include "punchlab/endpoint.h"
#include "realio/unique-fd.h"

namespace punchlab::realio {

struct TcpListener {
  UniqueFd fd;
  Endpoint local;  // with the actual port when 0 was asked for
};

// SO_REUSEADDR (a restarted server is not blocked by TIME_WAIT); IPv6
// listeners are IPV6_V6ONLY. Throws SocketError naming the endpoint.
TcpListener ListenTcp(const Endpoint& local, int backlog);

// Starts a connect. Returns the socket, which becomes writable when the connect
// finishes (then read ConnectResult); throws SocketError when it fails at once.
UniqueFd StartConnectTcp(const Endpoint& remote);
// 0 when the started connect succeeded, else its errno (SO_ERROR).
int ConnectResult(int fd);

// Accepts one connection. Returns an invalid fd and sets `error` (EAGAIN when
// none is pending); sets `remote` on success.
UniqueFd AcceptTcp(int listen_fd, Endpoint& remote, int& error);

}  // namespace punchlab::realio
