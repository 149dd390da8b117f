import Glibc

/// The few statistics the report's verdicts need, over plain arrays (no allocation beyond a sort).
enum ReportStatistics {
    /// The `p`-quantile (0…1) of ascending `sorted`, interpolating between the closest ranks
    /// (Hyndman & Fan type 7, what numpy and spreadsheets call the default); nil when empty.
    static func quantile(sorted: [Double], _ p: Double) -> Double? {
        guard let first = sorted.first else { return nil }
        guard sorted.count > 1 else { return first }
        let position = min(max(p, 0), 1) * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        let weight = position - Double(lower)
        return sorted[lower] + (sorted[upper] - sorted[lower]) * weight
    }

    /// The median of `values` in any order; nil when empty.
    static func median(_ values: [Double]) -> Double? {
        quantile(sorted: values.sorted(), 0.5)
    }

    static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }

    /// The sample standard deviation (n − 1); 0 for fewer than two values.
    static func standardDeviation(_ values: [Double]) -> Double {
        guard values.count > 1 else { return 0 }
        let average = mean(values)
        let squares = values.reduce(0) { $0 + ($1 - average) * ($1 - average) }
        return (squares / Double(values.count - 1)).squareRoot()
    }

    /// Coefficient of variation, sample standard deviation over mean; nil when the mean is not positive.
    static func coefficientOfVariation(_ values: [Double]) -> Double? {
        let average = mean(values)
        guard average > 0 else { return nil }
        return standardDeviation(values) / average
    }

    /// The least-squares line `y = intercept + slope·x` through the points; a level line at the
    /// mean when every x is the same.
    static func lineFit(x: [Double], y: [Double]) -> (intercept: Double, slope: Double) {
        let meanX = mean(x)
        let meanY = mean(y)
        var covariance = 0.0
        var varianceX = 0.0
        for index in x.indices {
            covariance += (x[index] - meanX) * (y[index] - meanY)
            varianceX += (x[index] - meanX) * (x[index] - meanX)
        }
        guard varianceX > 0 else { return (meanY, 0) }
        let slope = covariance / varianceX
        return (meanY - slope * meanX, slope)
    }

    /// The root mean square of `(observed − model) / observed`: how far a model is off, as a
    /// fraction of what was seen, so long and short gaps weigh alike. `observed` must be positive.
    static func relativeResidual(observed: [Double], model: [Double]) -> Double {
        guard !observed.isEmpty else { return 0 }
        var sum = 0.0
        for index in observed.indices {
            let error = (observed[index] - model[index]) / observed[index]
            sum += error * error
        }
        return (sum / Double(observed.count)).squareRoot()
    }

    static func logarithm(_ value: Double) -> Double { log(value) }
    static func exponential(_ value: Double) -> Double { exp(value) }
}
