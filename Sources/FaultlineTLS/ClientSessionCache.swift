internal import COpenSSL
internal import Synchronization

/// The newest resumable SSL_SESSION per server name, shared by the client sessions of one
/// `TLSContext` across threads.
///
/// OpenSSL's own client cache is switched off (`SSL_SESS_CACHE_NO_INTERNAL_STORE`): it is keyed
/// by session id, not by the server we connect to, so it cannot answer "what do I offer to X".
final class ClientSessionCache: Sendable {
    /// One reference to an SSL_SESSION. `@unchecked Sendable`: OpenSSL counts SSL_SESSION
    /// references atomically and does not change a session once it is resumable, so one may be
    /// handed to any thread; the table holding them is behind `sessions`' lock.
    struct Reference: @unchecked Sendable {
        let session: OpaquePointer
    }

    /// At most this many server names are remembered; a new name beyond it evicts an arbitrary one.
    static let capacity = 1024

    /// Each value holds one reference owned by the cache.
    private let sessions = Mutex<[String: Reference]>([:])

    /// Keeps `session` (taking over the caller's reference) as the one to offer to `serverName`.
    func store(_ session: OpaquePointer, for serverName: String) {
        let new = Reference(session: session)
        let dropped: [Reference] = sessions.withLock { table in
            var dropped: [Reference] = []
            if table[serverName] == nil && table.count >= ClientSessionCache.capacity,
               let victim = table.keys.first, let evicted = table.removeValue(forKey: victim) {
                dropped.append(evicted)
            }
            if let replaced = table.updateValue(new, forKey: serverName) {
                dropped.append(replaced)
            }
            return dropped
        }
        for reference in dropped { SSL_SESSION_free(reference.session) }
    }

    /// The session to offer to `serverName`, with a new reference the caller must free.
    func session(for serverName: String) -> OpaquePointer? {
        let reference: Reference? = sessions.withLock { table in
            guard let reference = table[serverName] else { return nil }
            // Taken under the lock: a concurrent `store` could otherwise free it first.
            SSL_SESSION_up_ref(reference.session)
            return reference
        }
        return reference?.session
    }

    deinit {
        sessions.withLock { table in
            for reference in table.values { SSL_SESSION_free(reference.session) }
            table.removeAll()
        }
    }
}
