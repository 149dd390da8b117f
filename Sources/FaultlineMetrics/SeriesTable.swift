/// The label sets of one family, kept sorted by label values so that rendering walks them in
/// order without sorting at scrape time.
///
/// Not thread-safe: each family keeps its table inside a `Mutex`.
struct SeriesTable<Series> {
    private(set) var ordered: [(labelValues: [String], series: Series)] = []
    private var positions: [[String]: Int] = [:]

    /// The series for `labelValues`, created with `make` the first time.
    mutating func series(for labelValues: [String], make: () -> Series) -> Series {
        if let position = positions[labelValues] {
            return ordered[position].series
        }
        let series = make()
        let position = insertionPoint(for: labelValues)
        ordered.insert((labelValues, series), at: position)
        reindex(from: position)
        return series
    }

    /// The series for `labelValues`, if it exists.
    func existing(_ labelValues: [String]) -> Series? {
        positions[labelValues].map { ordered[$0].series }
    }

    /// Forgets `labelValues`; returns whether it was present.
    @discardableResult
    mutating func remove(_ labelValues: [String]) -> Bool {
        guard let position = positions.removeValue(forKey: labelValues) else { return false }
        ordered.remove(at: position)
        reindex(from: position)
        return true
    }

    /// Forgets every label set for which `drop` returns true (it may also change the series,
    /// such as removing one shard, and answer whether the label set is now empty).
    mutating func removeAll(where drop: (_ labelValues: [String], _ series: Series) -> Bool) {
        let before = ordered.count
        ordered.removeAll { drop($0.labelValues, $0.series) }
        guard ordered.count != before else { return }
        positions.removeAll(keepingCapacity: true)
        reindex(from: 0)
    }

    private func insertionPoint(for labelValues: [String]) -> Int {
        var low = 0
        var high = ordered.count
        while low < high {
            let middle = (low + high) / 2
            if Exposition.precedes(ordered[middle].labelValues, labelValues) {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low
    }

    // Creation and removal happen at plan-build time, off the hot path, so a linear reindex
    // is cheaper overall than sorting on every scrape.
    private mutating func reindex(from start: Int) {
        for position in start..<ordered.count {
            positions[ordered[position].labelValues] = position
        }
    }
}
