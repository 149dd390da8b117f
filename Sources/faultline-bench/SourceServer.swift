// `source-server`: the upstream for bandwidth measurements.

import Glibc

/// `source-server`: writes zeros to every connection until the peer closes; the upstream for
/// bandwidth measurements (`sink`). One thread per connection: there are only a few.
enum SourceServer {
    static func run(_ arguments: inout Arguments) throws {
        let host = try arguments.string("host", default: "127.0.0.1")
        let port = try arguments.int("port", default: 0)
        let chunk = max(1, try arguments.int("chunk", default: 65536))
        try arguments.finish()
        guard port <= 65535 else { throw BenchError("--port \(port) out of range") }

        Posix.raiseFileLimit()
        Posix.ignoreSigpipe()
        let listener = try TCP.listen(on: Endpoint(host: host, port: UInt16(port)))
        printLine(String(try TCP.localPort(listener)))
        while true {
            let connection = Glibc.accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                throw BenchError.errno("accept")
            }
            Posix.setNoDelay(connection)
            try Thread {
                let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 16)
                buffer.initializeMemory(as: UInt8.self, repeating: 0, count: chunk)
                while Posix.write(connection, buffer, chunk) > 0 {}
                buffer.deallocate()
                close(connection)
            }.detach()
        }
    }
}
