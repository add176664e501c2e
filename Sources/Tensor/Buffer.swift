/// A growable float buffer with a stable address, owned by a layer (activations,
/// gradients). Reused across steps: `resize` only reallocates when it must grow.
public final class Buffer {
    public private(set) var ptr: UnsafeMutablePointer<Float>
    public private(set) var count = 0
    private var capacity = 0

    public init(count: Int = 0) {
        ptr = .allocate(capacity: max(1, count))
        capacity = max(1, count)
        self.count = count
        ptr.initialize(repeating: 0, count: capacity)
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        ptr.update(from: values, count: values.count)
    }

    deinit { ptr.deallocate() }

    /// Sets the logical size; contents are unspecified after growth.
    @discardableResult
    public func resize(_ n: Int) -> Buffer {
        if n > capacity {
            ptr.deallocate()
            capacity = max(n, capacity + capacity / 2)
            ptr = .allocate(capacity: capacity)
            ptr.initialize(repeating: 0, count: capacity)
        }
        count = n
        return self
    }

    /// Resizes and fills with zeros (gradient buffers before accumulation).
    @discardableResult
    public func zeroed(_ n: Int) -> Buffer {
        resize(n)
        ptr.update(repeating: 0, count: n)
        return self
    }

    public var array: [Float] { Array(UnsafeBufferPointer(start: ptr, count: count)) }

    public func add(_ other: Buffer) {
        precondition(other.count == count, "Buffer.add: \(other.count) vs \(count)")
        let a = ptr
        let b = other.ptr
        // A whole range a closure call: a call per element kept the loop from vectorising.
        parallelRanges(count, minimumPerThread: 1 << 15) { lo, hi in
            for i in lo..<hi { a[i] += b[i] }
        }
    }

    public func copy(from other: Buffer) {
        resize(other.count)
        ptr.update(from: other.ptr, count: other.count)
    }
}
