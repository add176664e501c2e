/// Variable-length sampling (§3.3): each training window draws the boundary frames
/// s ~ U(a_s, b_s) and e ~ U(a_e, b_e) independently, so the infill length
/// l = e − s − 1 is triangular between a_e − b_s − 1 and b_e − a_s − 1.
public struct BoundaryRanges: Codable, Equatable, Sendable {
    public var startLow: Int  // a_s
    public var startHigh: Int  // b_s
    public var endLow: Int  // a_e
    public var endHigh: Int  // b_e

    public init(startLow: Int, startHigh: Int, endLow: Int, endHigh: Int) {
        self.startLow = startLow
        self.startHigh = startHigh
        self.endLow = endLow
        self.endHigh = endHigh
    }

    /// Valid when 0 < a_s < b_s < a_e < b_e < L − 1 (inclusive uniform ranges).
    public func validate(window L: Int) -> String? {
        guard 0 < startLow, startLow <= startHigh, startHigh < endLow, endLow <= endHigh, endHigh < L - 1 else {
            return
                "boundary ranges s∈[\(startLow),\(startHigh)], e∈[\(endLow),\(endHigh)] do not fit a window of "
                + "\(L) frames"
        }
        return nil
    }

    public var shortest: Int { endLow - startHigh - 1 }
    public var longest: Int { endHigh - startLow - 1 }
    public var lengths: ClosedRange<Int> { shortest...longest }

    public func sample<G: RandomNumberGenerator>(using rng: inout G) -> (s: Int, e: Int) {
        (Int.random(in: startLow...startHigh, using: &rng), Int.random(in: endLow...endHigh, using: &rng))
    }

    /// P(l) exactly: the number of (s, e) pairs with e − s − 1 = l over all pairs.
    public func probability(ofLength l: Int) -> Double {
        var hits = 0
        for s in startLow...startHigh {
            let e = s + l + 1
            if e >= endLow && e <= endHigh { hits += 1 }
        }
        return Double(hits) / Double((startHigh - startLow + 1) * (endHigh - endLow + 1))
    }

    /// Where to put the boundaries for an infill of length l at inference: references split evenly.
    public func placement(length l: Int, window L: Int) -> (s: Int, e: Int) {
        let refs = L - l
        let before = (refs + 1) / 2
        return (before - 1, before + l)
    }
}
