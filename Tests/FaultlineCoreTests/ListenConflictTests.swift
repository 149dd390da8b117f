import FaultlineCore
import Testing

@Suite("Listen address conflicts")
struct ListenConflictTests {
    private func endpoint(_ text: String) -> Endpoint { Endpoint(parsing: text)! }

    @Test("the same address, and a wildcard against its own family, conflict; port 0 and other ports never do")
    func pairs() {
        #expect(ListenConflict.between(endpoint("127.0.0.1:80"), endpoint("127.0.0.1:80")) == .duplicate)
        #expect(ListenConflict.between(endpoint("0.0.0.0:80"), endpoint("127.0.0.1:80")) == .overlaps)
        #expect(ListenConflict.between(endpoint("127.0.0.2:80"), endpoint("0.0.0.0:80")) == .overlaps)
        #expect(ListenConflict.between(endpoint("[::]:80"), endpoint("[::1]:80")) == .overlaps)
        #expect(ListenConflict.between(endpoint("[::]:80"), endpoint("0.0.0.0:80")) == nil)
        #expect(ListenConflict.between(endpoint("127.0.0.1:80"), endpoint("127.0.0.2:80")) == nil)
        #expect(ListenConflict.between(endpoint("127.0.0.1:80"), endpoint("127.0.0.1:81")) == nil)
        #expect(ListenConflict.between(endpoint("127.0.0.1:0"), endpoint("127.0.0.1:0")) == nil)
    }

    @Test("the index answers like the pairwise rule, naming the first owner, for every order of a mixed set")
    func indexAgreesWithPairs() {
        let addresses = ["127.0.0.1:80", "0.0.0.0:80", "127.0.0.2:80", "[::1]:80", "[::]:80", "127.0.0.1:81",
                         "127.0.0.1:0", "0.0.0.0:81", "127.0.0.1:80"].map(endpoint)
        var generator = DecisionRNG(seed: 11, faultID: "listen-order", serial: 0)
        for _ in 0..<200 {
            var order = addresses
            for index in order.indices.reversed() where index > 0 {
                order.swapAt(index, Int(generator.next() % UInt64(index + 1)))
            }
            var index = ListenAddressIndex<Int>()
            for (position, candidate) in order.enumerated() {
                let found = index.conflict(with: candidate)
                if order[..<position].contains(where: { ListenConflict.between(candidate, $0) != nil }) {
                    // The owner reported may be any earlier conflicting address; its kind must match.
                    #expect(found != nil, "\(candidate) after \(order[..<position])")
                    if let found { #expect(ListenConflict.between(candidate, order[found.owner]) == found.kind) }
                } else {
                    #expect(found == nil, "\(candidate) after \(order[..<position])")
                }
                index.insert(candidate, owner: position)
            }
        }
    }
}
