import Foundation

/// `body(i)` for i in 0..<n spread over the cores, results in index order, so the
/// output never depends on scheduling. For independent per-item work (frames, pairs).
public func parallelMap<T>(_ n: Int, _ body: (Int) -> T) -> [T] {
    var out = [T?](repeating: nil, count: n)
    let lock = NSLock()
    DispatchQueue.concurrentPerform(iterations: n) { i in
        let v = body(i)
        lock.lock()
        out[i] = v
        lock.unlock()
    }
    return out.map { $0! }
}
