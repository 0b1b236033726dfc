// Package h1 is benchrun's own HTTP/1.1 client transport for plain-http
// targets: an http.RoundTripper that sends each request and reads its
// response on the calling goroutine, over a pool of kept-alive
// connections, without net/http's per-connection read and write
// goroutines, channel hand-offs and per-request bookkeeping. A load
// generator pays those costs on every request; at tens of thousands of
// requests per second on one core they were most of benchrun's own CPU
// (docs/performance.md).
//
// What it does, as net/http's Transport does for the same requests:
//
//   - requests: any method, no body or one of known length
//     (ContentLength > 0; 0 with a body means unknown, as in net/http),
//     Host, User-Agent (Go-http-client/1.1 unless the request sets its
//     own), Content-Length, the request's headers (validated: a name or
//     value that could split the request is an error), Connection: close
//     when Request.Close or the request's Connection field says close
//     (then the connection is not reused; other Connection values are not
//     sent);
//   - responses: HTTP/1.0 and 1.1 status lines, 1xx interim responses
//     skipped (101 is an error), bodies framed by Content-Length, by
//     chunked transfer coding (trailers read and dropped) or by the close
//     of the connection; none for HEAD, 204 and 304; header sections up to
//     1 MiB, the interim responses' included; a response the server sent
//     before it stopped reading a request it did not take whole (a 413
//     before the body's end) is returned rather than the write's error;
//   - connections: kept alive and reused last-in first-out, at most
//     MaxIdlePerHost idle per host, closed after IdleTimeout idle (found
//     when the host's pool is next used), when either side says
//     Connection: close, or when bytes follow the end of a response (the
//     next request would read them as its own); a connection idle for
//     more than probeAfter is checked (non-blocking peek) before reuse, so
//     a server that closed it in the meantime costs a new connection, not
//     a failed request; a request on a reused connection is sent again
//     once on a new one when none of it reached the server: its write
//     failed before any byte left, or (Linux) the connection ended before
//     a response and the kernel shows that the server acknowledged none of
//     it (a server that closed the connection right after its previous
//     response, without Connection: close);
//   - the request's context: one that has already ended sends nothing;
//     cancelling it (or its deadline) interrupts a dial, a write or a
//     read, in the headers or the body, and the error is the context's;
//     the connection is then closed;
//   - httptrace: GetConn, GotConn, WroteRequest and GotFirstResponseByte
//     are called, the last when the first byte of the response can be
//     read, on the calling goroutine.
//
// Everything else goes to Fallback (net/http's Transport): https, requests
// a proxy from the environment applies to, bodies of unknown length
// (ContentLength -1, or 0 with a Body).
//
// Where it differs from net/http, which reads every connection on a
// goroutine of its own:
//
//   - elsewhere than on Linux, a server that closes a kept-alive
//     connection right after a response without saying Connection: close
//     fails the next request sent on it within probeAfter (net/http's
//     reader sees the close at once and sends the request on a new
//     connection); servers close idle connections after seconds, which
//     the probe finds;
//   - bytes a server sends after a response's end in a later segment,
//     when the next request goes out on the connection within probeAfter,
//     are read as that request's response (net/http's reader would see
//     them first and drop the connection). benchrun's drivers then refuse
//     the response when the kernel stamped its first read before the
//     request was sent (runner.Exchange), as it is whenever the server
//     takes longer to answer than the client to read; when the request's
//     answer lands in the same read, the bytes after the response's end
//     fail the request with ErrUnsolicited
//     (TestUnsolicitedOnReusedConnection), where net/http would take the
//     first response as the answer. Bytes that arrive with a connection's
//     first response, the usual case of a response sent twice or a body
//     longer than its Content-Length, close the connection, and that
//     response is the request's (TestLeftoverBytes). Left as with
//     net/http: stale bytes that arrive after the request was sent and
//     before its answer, in a segment of their own, are its response;
//     its answer is then left on the connection for the next request,
//     which the stamp check or the idle check finds;
//   - a response body's Read and Close are for one goroutine at a time:
//     closing a body to abort a Read blocked on another goroutine is a
//     data race (cancel the request's context instead).
package h1
