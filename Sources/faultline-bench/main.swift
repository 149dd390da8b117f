// faultline-bench: the load generator behind Scripts/bench. See docs/BENCHMARKS.md.

import Glibc

let usage = """
    usage: faultline-bench COMMAND [--option value ...]

      echo-server   --port P [--host 127.0.0.1] [--threads 2]     TCP echo; prints its port
      source-server --port P [--host 127.0.0.1] [--chunk 65536]   writes zeros forever; prints its port
      pingpong      --target H:P [--size 64] [--count 10000] [--warmup 1000] [--busy-poll]
      rps           --target H:P [--conns 64] [--size 64] [--duration 5] [--warmup 0.5] [--threads 2]
      idle          --target H:P --pid PID [--conns 9900] [--hold-seconds 2] [--settle-seconds 1]
                    [--control SOCKET --route R [--applies 20]]   (also times fault applies)
      trickle       --target H:P --pid PID [--conns 1000] [--interval 1] [--seconds 10] [--size 64]
                    each connection echoes one message per interval; the proxy's CPU % of a core
      sink          --target H:P [--bytes 100000000] [--skip-fraction 0.1]
      tls-bio       [--bytes 268435456] [--handshakes 2000] [--runs 3] [--write-size 65536]
                    [--transport tcp|unix] [--only memory-bio,set-fd,set-fd+read-ahead]
                    TLS 1.3 over memory BIOs vs SSL_set_fd, one thread; prints a table

    Results are one line of JSON on stdout (tls-bio: a table); latencies in microseconds, rates in MB/s (10^6 B/s).
    """

let argv = CommandLine.arguments
guard argv.count >= 2, !["-h", "--help", "help"].contains(argv[1]) else {
    printLine(usage)
    exit(argv.count >= 2 ? 0 : 64)
}
do {
    var arguments = try Arguments(command: argv[1], argv.dropFirst(2), flags: ["busy-poll"])
    switch argv[1] {
    case "echo-server": try EchoServer.run(&arguments)
    case "source-server": try SourceServer.run(&arguments)
    case "pingpong": try PingPong.run(&arguments)
    case "rps": try RequestRate.run(&arguments)
    case "idle": try IdleConnections.run(&arguments)
    case "trickle": try Trickle.run(&arguments)
    case "sink": try Sink.run(&arguments)
    case "tls-bio": try TLSBio.run(&arguments)
    default:
        printError("faultline-bench: unknown command \(argv[1])\n\(usage)")
        exit(64)
    }
} catch {
    printError("faultline-bench \(argv[1]): \(error)")
    exit(1)
}
