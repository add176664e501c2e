import Core

/// The footage generator: SplitMix64 from a seed offset of its own (so animal seeds and
/// weight seeds never share streams), with the draws the renderer needs.
public struct SeededRandom: RandomNumberGenerator {
    private var base: SplitMix64
    public init(seed: UInt64) { base = SplitMix64(seed: seed &+ 0x632BE59BD9B4E019) }
    public mutating func next() -> UInt64 { base.next() }
    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double {
        lo + (hi - lo) * Double(next() >> 11) / Double(1 << 53)
    }
    public mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }
}

/// A hash of a lattice point to [0, 1), for textures that must not depend on draw order.
@inline(__always) func latticeHash(_ x: Int32, _ y: Int32, _ salt: UInt32) -> Float {
    var h = UInt32(bitPattern: x) &* 0x8DA6B343 ^ UInt32(bitPattern: y) &* 0xD8163841 ^ salt &* 0xCB1AB31F
    h ^= h >> 13
    h = h &* 0x5BD1E995
    h ^= h >> 15
    return Float(h & 0xFFFFFF) / Float(0x1000000)
}

/// Smooth value noise in [0, 1).
@inline(__always) func valueNoise(_ x: Float, _ y: Float, _ salt: UInt32) -> Float {
    let xf = x.rounded(.down)
    let yf = y.rounded(.down)
    let xi = Int32(xf)
    let yi = Int32(yf)
    var tx = x - xf
    var ty = y - yf
    tx = tx * tx * (3 - 2 * tx)
    ty = ty * ty * (3 - 2 * ty)
    let a = latticeHash(xi, yi, salt)
    let b = latticeHash(xi + 1, yi, salt)
    let c = latticeHash(xi, yi + 1, salt)
    let d = latticeHash(xi + 1, yi + 1, salt)
    return (a + (b - a) * tx) + ((c + (d - c) * tx) - (a + (b - a) * tx)) * ty
}
