/// The seam for Toxiproxy's API on the TCP listener (SPEC §4): `GET /version`, `/proxies…`,
/// `POST /reset`, `POST /populate`. Not built yet: every such request gets 501 in Toxiproxy's
/// error shape (`{"error": "...", "status": 501}`), so a Toxiproxy client fails clearly instead of
/// seeing Faultline's 404.
struct ToxiproxyCompatibility {
    /// Whether a first path segment belongs to Toxiproxy's API.
    static func ownsPath(_ firstSegment: String) -> Bool {
        ["version", "proxies", "reset", "populate"].contains(firstSegment)
    }

    func handle(_ request: ControlRequest) -> ControlResponse {
        .json(501, ["error": .string("Toxiproxy compatibility is not implemented yet (\(request.method) \(request.path))"), "status": 501])
    }
}
