/// Scratch memory reused across calls, so hot loops never allocate.
/// One per model (not shared between threads); buffers only grow.
public final class Workspace {
    private var slots: [[Float]] = []

    public init() {}

    /// A buffer of at least `count` floats for `slot`; contents are unspecified.
    public func buffer(_ slot: Int, _ count: Int) -> UnsafeMutablePointer<Float> {
        while slots.count <= slot { slots.append([]) }
        if slots[slot].count < count { slots[slot] = [Float](repeating: 0, count: count) }
        return slots[slot].withUnsafeMutableBufferPointer { $0.baseAddress! }
    }

    public var bytes: Int { slots.reduce(0) { $0 + $1.count * 4 } }
}
