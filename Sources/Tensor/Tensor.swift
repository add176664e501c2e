import CTensorShim
import Foundation

/// A float32 n-d array in row-major order: the plain value the kernels read and write.
public struct Tensor: Equatable, Sendable {
    public var shape: [Int]
    public var data: [Float]

    public var count: Int { data.count }

    public init(shape: [Int], data: [Float]) {
        precondition(
            shape.reduce(1, *) == data.count,
            "Tensor: shape \(shape) holds \(shape.reduce(1, *)) values, got \(data.count)")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.shape = shape
        self.data = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// Gaussian N(0, std²) values from a seeded generator (Box–Muller).
    public init<G: RandomNumberGenerator>(randn shape: [Int], std: Float = 1, using rng: inout G) {
        self.shape = shape
        let n = shape.reduce(1, *)
        var d = [Float](repeating: 0, count: n)
        var i = 0
        while i < n {
            let u1 = Float.random(in: Float.ulpOfOne..<1, using: &rng)
            let u2 = Float.random(in: 0..<1, using: &rng)
            let r = (-2 * log(u1)).squareRoot()
            d[i] = r * cos(2 * .pi * u2) * std
            if i + 1 < n { d[i + 1] = r * sin(2 * .pi * u2) * std }
            i += 2
        }
        self.data = d
    }

    public func reshaped(_ newShape: [Int]) -> Tensor { Tensor(shape: newShape, data: data) }
}

/// Norm-wise relative error ‖a − b‖ / max(‖b‖, tiny): the measure every reference test uses.
public func relativeError(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "relativeError: \(a.count) vs \(b.count) values")
    var num: Double = 0
    var den: Double = 0
    for i in 0..<a.count {
        let d = Double(a[i]) - Double(b[i])
        num += d * d
        den += Double(b[i]) * Double(b[i])
    }
    return Float((num / max(den, 1e-30)).squareRoot())
}

/// The largest elementwise |a − b| / (|b| + atol) — a stricter, per-element check.
public func maxRelativeError(_ a: [Float], _ b: [Float], atol: Float = 1e-3) -> Float {
    var worst: Float = 0
    for i in 0..<a.count { worst = max(worst, abs(a[i] - b[i]) / (abs(b[i]) + atol)) }
    return worst
}

/// Runs `body(i)` for i in 0..<n over all cores; used for loops that are not GEMMs.
@inline(__always)
public func parallelFor(_ n: Int, minimumPerThread: Int = 1, _ body: (Int) -> Void) {
    parallelRanges(n, minimumPerThread: minimumPerThread) { lo, hi in
        for i in lo..<hi { body(i) }
    }
}

/// Splits 0..<n into one contiguous range per core (none shorter than `minimumPerThread`, else a single range)
/// and runs `body(lo, hi)` on each: for kernels that take a whole run at once (the vectorised C ones).
@inline(__always)
public func parallelRanges(_ n: Int, minimumPerThread: Int = 1, _ body: (Int, Int) -> Void) {
    let cores = kernelWorkers
    if n < 2 * minimumPerThread || cores == 1 {
        if n > 0 { body(0, n) }
        return
    }
    let chunks = min(cores, max(1, n / minimumPerThread))
    DispatchQueue.concurrentPerform(iterations: chunks) { c in body(c * n / chunks, (c + 1) * n / chunks) }
}

/// Runs `body(worker, item)` for every item, spread over the cores with OpenBLAS
/// single-threaded meanwhile: many small GEMMs on cache-resident data in parallel
/// beat the same GEMMs one after another on two BLAS threads.
/// `worker` (0..<workers) indexes per-worker scratch buffers.
public func forEachWithSerialBLAS(items: Int, workers: Int, _ body: (Int, Int) -> Void) {
    let workers = max(1, min(workers, items))
    if workers == 1 {
        for i in 0..<items { body(0, i) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        mavin_set_in_worker(1)
        defer { mavin_set_in_worker(0) }
        var i = w
        while i < items {
            body(w, i)
            i += workers
        }
    }
}

/// How many workers the parallel kernels use: the online cores, read once
/// (ProcessInfo asks the kernel on every access, which costs microseconds per GEMM).
public let kernelWorkers: Int = ProcessInfo.processInfo.activeProcessorCount
