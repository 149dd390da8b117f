import FaultlineConfig
import Testing

@Suite struct DurationParserTests {
    @Test(arguments: [
        ("0s", Duration.zero),
        ("250ms", .milliseconds(250)),
        ("2s", .seconds(2)),
        ("1m30s", .seconds(90)),
        ("1h", .seconds(3600)),
        ("1.5s", .milliseconds(1500)),
        ("500us", .microseconds(500)),
        ("500µs", .microseconds(500)),
        ("500μs", .microseconds(500)),
        ("100ns", .nanoseconds(100)),
        ("1h2m3s4ms5us6ns", .nanoseconds(3_723_004_005_006)),
        ("0.5h", .seconds(1800)),
        ("1.000000001s", .nanoseconds(1_000_000_001)),
        ("1.0000000019s", .nanoseconds(1_000_000_001)),
        ("0.1h", .seconds(360)),
        ("007ms", .milliseconds(7)),
        ("9223372036854775807ns", .nanoseconds(Int64.max)),
        ("2562047h47m16.854775807s", .nanoseconds(Int64.max)),
    ])
    func parses(text: String, expected: Duration) {
        #expect(DurationParser.parse(text) == .success(expected))
    }

    @Test(arguments: [
        ("", DurationParser.Failure.empty),
        ("-1s", .negative),
        ("5", .missingUnit),
        ("0", .missingUnit),
        ("1.5", .missingUnit),
        ("1m30", .missingUnit),
        ("20x", .malformed),
        ("1S", .malformed),
        ("1 s", .malformed),
        (" 1s", .malformed),
        ("+1s", .malformed),
        ("s", .malformed),
        (".5s", .malformed),
        ("1.s", .malformed),
        ("30s1m", .malformed),
        ("1s1s", .malformed),
        ("1sec", .malformed),
        ("1e3s", .malformed),
        ("9223372036854775808ns", .tooLarge),
        ("2562048h", .tooLarge),
        ("99999999999999999999999s", .tooLarge),
        ("2562047h47m16.854775808s", .tooLarge),
    ])
    func rejects(text: String, failure: DurationParser.Failure) {
        #expect(DurationParser.parse(text) == .failure(failure))
    }

    @Test(arguments: [
        (Duration.zero, "0s"),
        (.milliseconds(250), "250ms"),
        (.seconds(90), "1m30s"),
        (.seconds(3600), "1h"),
        (.seconds(3601), "1h1s"),
        (.seconds(3660), "1h1m"),
        (.milliseconds(1500), "1.5s"),
        (.microseconds(1500), "1500us"),
        (.nanoseconds(7), "7ns"),
        (.nanoseconds(1_000_000_001), "1.000000001s"),
        (.seconds(7200) + .milliseconds(250), "2h0.25s"),
        (.seconds(-2), "-2s"),
        (.nanoseconds(Int64.max), "2562047h47m16.854775807s"),
    ])
    func renders(duration: Duration, expected: String) {
        #expect(DurationParser.render(duration) == expected)
        if duration >= .zero {
            #expect(DurationParser.parse(expected) == .success(duration))
        }
    }
}
