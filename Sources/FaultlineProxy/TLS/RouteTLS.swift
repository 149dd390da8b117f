import FaultlineCore
import FaultlineSystem
import FaultlineTLS

/// A route's TLS: the contexts its connections' sessions are made from. Built on the control
/// thread when a plan is applied and shared read-only by every worker.
final class RouteTLS: Sendable {
    /// Terminates TLS on the listener (`routes[].tls`).
    let server: TLSContext?
    /// Originates TLS to the upstream (`routes[].upstream_tls`).
    let client: TLSContext?
    /// On http routes, for connections whose client speaks HTTP/2: the same settings offering
    /// ALPN `h2` (the upstream speaks the client's protocol; `client` offers `http/1.1`).
    let clientH2: TLSContext?
    /// Sent as SNI and checked against the upstream's certificate: `upstream_tls.sni`, else the
    /// upstream's host as written (a name is sent and checked; an IP address is checked, never
    /// sent as SNI).
    let upstreamName: String?

    init(server: TLSContext?, client: TLSContext?, clientH2: TLSContext? = nil, upstreamName: String?) {
        self.server = server
        self.client = client
        self.clientH2 = clientH2
        self.upstreamName = upstreamName
    }
}

/// Builds routes' TLS contexts and keeps them while their settings and files stay the same: a
/// plan that changes nothing about a route's TLS reuses its contexts (and their session
/// caches); a file that changed on disk (inode, size or mtime) is read again.
struct TLSContextCache {
    private struct Entry {
        var settings: TLSSettings?
        var upstream: UpstreamTLSSettings?
        var upstreamAddress: UpstreamAddress
        var protocolKind: RouteProtocol
        var versions: [FileVersion]
        var tls: RouteTLS
    }

    private var entries: [String: Entry] = [:]

    /// The contexts of every enabled route that has TLS, by route name. Nothing is kept unless
    /// every route's files could be used.
    /// - Throws: `ProxyError.setting` naming the route's setting (`routes[i].tls.cert`).
    mutating func contexts(for routes: [RoutePlan]) throws(ProxyError) -> [String: RouteTLS] {
        var next: [String: Entry] = [:]
        for (index, route) in routes.enumerated() {
            let spec = route.spec
            guard spec.enabled, spec.tls != nil || spec.upstreamTLS != nil else { continue }
            let versions = try Self.versions(of: spec, index: index)
            if let entry = entries[spec.name], entry.settings == spec.tls, entry.upstream == spec.upstreamTLS,
               entry.upstreamAddress == spec.upstream, entry.protocolKind == spec.protocolKind, entry.versions == versions {
                next[spec.name] = entry
                continue
            }
            let tls = try Self.build(spec, index: index)
            next[spec.name] = Entry(
                settings: spec.tls, upstream: spec.upstreamTLS, upstreamAddress: spec.upstream, protocolKind: spec.protocolKind,
                versions: versions, tls: tls)
        }
        entries = next
        return next.mapValues(\.tls)
    }

    /// Checks that a route's TLS files can be used, without keeping anything (`--check-config`).
    static func check(_ spec: RouteSpec, index: Int) throws(ProxyError) {
        _ = try versions(of: spec, index: index)
        _ = try build(spec, index: index)
    }

    /// The version of every file the route's TLS names, in a fixed order.
    private static func versions(of spec: RouteSpec, index: Int) throws(ProxyError) -> [FileVersion] {
        var files: [(String, String)] = []
        if let tls = spec.tls { files += [("tls.cert", tls.certificate), ("tls.key", tls.key)] }
        if let ca = spec.upstreamTLS?.ca { files.append(("upstream_tls.ca", ca)) }
        var versions: [FileVersion] = []
        for (key, path) in files {
            do throws(SystemError) {
                versions.append(try Posix.fileVersion(path))
            } catch {
                throw setting(index, key, "cannot read \(path): \(error.reason)")
            }
        }
        return versions
    }

    private static func build(_ spec: RouteSpec, index: Int) throws(ProxyError) -> RouteTLS {
        var server: TLSContext?
        var client: TLSContext?
        var clientH2: TLSContext?
        if let tls = spec.tls {
            do throws(TLSError) {
                server = try TLSContext.server(certificatePath: tls.certificate, keyPath: tls.key, alpn: tls.alpn)
            } catch {
                // A problem with the key file (or a key that does not match) is the key's.
                let isKey = error.reason == "key_mismatch" || error.message.contains(tls.key) && !error.message.contains(tls.certificate)
                throw setting(index, isKey ? "tls.key" : "tls.cert", error.message)
            }
        }
        var upstreamName: String?
        if let upstream = spec.upstreamTLS {
            do throws(TLSError) {
                client = try TLSContext.client(caPath: upstream.ca, verify: upstream.verify, alpn: upstream.alpn)
                if spec.protocolKind.isHTTP {
                    clientH2 = try TLSContext.client(caPath: upstream.ca, verify: upstream.verify, alpn: [ALPNProtocol.http2])
                }
            } catch {
                throw setting(index, upstream.ca == nil ? "upstream_tls" : "upstream_tls.ca", error.message)
            }
            upstreamName = upstream.serverName ?? spec.upstream.hostText
        }
        return RouteTLS(server: server, client: client, clientH2: clientH2, upstreamName: upstreamName)
    }

    private static func setting(_ index: Int, _ key: String, _ message: String) -> ProxyError {
        .setting(path: "routes[\(index)].\(key)", message: message)
    }
}
