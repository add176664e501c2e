import Foundation

/// All trainable parameters in one flat buffer with named views; gradients, AdamW
/// moments and the EMA copy use the same layout element for element, so the
/// optimiser is one loop and a checkpoint is one write.
public final class ParameterStore {
    /// How `initialise` fills a parameter.
    public enum Initial: String, Codable, Sendable {
        /// Uniform in ±1/√fanIn (PyTorch's default for Linear and Conv weights).
        case fanIn
        case zeros
        /// Norm gains.
        case ones
        /// N(0, 0.02²): embeddings (positions, types).
        case small
    }

    public struct Entry: Codable, Equatable, Sendable {
        public var name: String
        public var shape: [Int]
        public var offset: Int
        public var count: Int
        /// Weight decay applies to matrices and kernels, not to biases and norm gains.
        public var decay: Bool
        public var initial: Initial
    }

    public private(set) var entries: [Entry] = []
    private var byName: [String: Int] = [:]
    public private(set) var count = 0
    public private(set) var values: UnsafeMutablePointer<Float>
    public private(set) var grads: UnsafeMutablePointer<Float>
    private var m: UnsafeMutablePointer<Float>
    private var v: UnsafeMutablePointer<Float>
    public private(set) var ema: UnsafeMutablePointer<Float>
    private var capacity = 0
    /// AdamW steps taken (bias correction uses it).
    public var step = 0

    public init() {
        values = .allocate(capacity: 1)
        grads = .allocate(capacity: 1)
        m = .allocate(capacity: 1)
        v = .allocate(capacity: 1)
        ema = .allocate(capacity: 1)
    }

    deinit { [values, grads, m, v, ema].forEach { $0.deallocate() } }

    /// Registers a parameter and returns its offset. Call before any training step.
    @discardableResult
    public func add(_ name: String, shape: [Int], decay: Bool? = nil, initial: Initial? = nil) -> Int {
        precondition(byName[name] == nil, "parameter '\(name)' registered twice")
        let n = shape.reduce(1, *)
        let e = Entry(
            name: name, shape: shape, offset: count, count: n, decay: decay ?? (shape.count >= 2),
            initial: initial ?? (shape.count >= 2 ? .fanIn : .zeros))
        byName[name] = entries.count
        entries.append(e)
        count += n
        grow(to: count)
        return e.offset
    }

    private func grow(to n: Int) {
        guard n > capacity else { return }
        let newCap = max(n, capacity * 2, 1024)
        func regrow(_ p: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
            let q = UnsafeMutablePointer<Float>.allocate(capacity: newCap)
            q.initialize(repeating: 0, count: newCap)
            if capacity > 0 { q.update(from: p, count: capacity) }
            p.deallocate()
            return q
        }
        values = regrow(values)
        grads = regrow(grads)
        m = regrow(m)
        v = regrow(v)
        ema = regrow(ema)
        capacity = newCap
    }

    public func entry(_ name: String) -> Entry? { byName[name].map { entries[$0] } }

    public func value(_ name: String) -> UnsafeMutablePointer<Float> {
        guard let e = entry(name) else { fatalError("no parameter named '\(name)'") }
        return values + e.offset
    }

    public func grad(_ name: String) -> UnsafeMutablePointer<Float> {
        guard let e = entry(name) else { fatalError("no parameter named '\(name)'") }
        return grads + e.offset
    }

    public func zeroGrad() { grads.update(repeating: 0, count: count) }

    /// Initialises every parameter by its `initial` rule (`gains` scales fan-in bounds by name).
    public func initialise<G: RandomNumberGenerator>(using rng: inout G, gains: [String: Float] = [:]) {
        for e in entries {
            let p = values + e.offset
            switch e.initial {
            case .fanIn:
                let fanIn = e.shape.dropFirst().reduce(1, *)
                let bound = (gains[e.name] ?? 1) / Float(max(1, fanIn)).squareRoot()
                for i in 0..<e.count { p[i] = Float.random(in: -bound...bound, using: &rng) }
            case .zeros: p.update(repeating: 0, count: e.count)
            case .ones: p.update(repeating: 1, count: e.count)
            case .small:
                for i in 0..<e.count {
                    let u1 = Float.random(in: Float.ulpOfOne..<1, using: &rng)
                    let u2 = Float.random(in: 0..<1, using: &rng)
                    p[i] = 0.02 * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
                }
            }
        }
        syncEMA()
    }

    /// Scales gradients so their global L2 norm is at most `maxNorm`; returns the norm before clipping.
    @discardableResult
    public func clipGradNorm(_ maxNorm: Float) -> Float {
        var s: Double = 0
        for i in 0..<count { s += Double(grads[i]) * Double(grads[i]) }
        let norm = Float(s.squareRoot())
        if norm > maxNorm && norm.isFinite {
            let k = maxNorm / (norm + 1e-6)
            for i in 0..<count { grads[i] *= k }
        }
        return norm
    }

    /// One AdamW step (decoupled weight decay, Loshchilov & Hutter), as torch.optim.AdamW.
    public func adamWStep(
        lr: Float, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0.01
    ) {
        step += 1
        let bc1 = 1 - pow(beta1, Float(step))
        let bc2 = 1 - pow(beta2, Float(step))
        for e in entries {
            let wd: Float = e.decay ? weightDecay : 0
            let p = values + e.offset
            let g = grads + e.offset
            let mm = m + e.offset
            let vv = v + e.offset
            for i in 0..<e.count {
                p[i] -= lr * wd * p[i]
                mm[i] = beta1 * mm[i] + (1 - beta1) * g[i]
                vv[i] = beta2 * vv[i] + (1 - beta2) * g[i] * g[i]
                p[i] -= lr * (mm[i] / bc1) / ((vv[i] / bc2).squareRoot() + eps)
            }
        }
    }

    /// ema ← decay·ema + (1 − decay)·values.
    public func updateEMA(decay: Float) {
        for i in 0..<count { ema[i] = decay * ema[i] + (1 - decay) * values[i] }
    }

    public func syncEMA() { ema.update(from: values, count: count) }

    /// Swaps the live weights with the EMA copy (to evaluate or save the average).
    public func swapEMA() { swap(&values, &ema) }

    /// Named tensors of one of the same-layout buffers, for checkpoints.
    public enum Buffer: String, CaseIterable {
        case values, ema
        case adamM = "adam_m"
        case adamV = "adam_v"
    }

    public func tensors(_ which: Buffer) -> [(String, [Int], UnsafePointer<Float>)] {
        let base: UnsafeMutablePointer<Float>
        switch which {
        case .values: base = values
        case .ema: base = ema
        case .adamM: base = m
        case .adamV: base = v
        }
        return entries.map { ($0.name, $0.shape, UnsafePointer(base + $0.offset)) }
    }

    /// Loads named values into a buffer; every registered name must be present with its shape.
    public func load(_ file: SafeTensorsFile, into which: Buffer = .values, prefix: String = "") throws {
        let base: UnsafeMutablePointer<Float>
        switch which {
        case .values: base = values
        case .ema: base = ema
        case .adamM: base = m
        case .adamV: base = v
        }
        for e in entries {
            guard let t = file.tensor(prefix + e.name) else { throw SafeTensorsError.missingTensor(prefix + e.name) }
            guard t.shape == e.shape else {
                throw SafeTensorsError.shapeMismatch(e.name, expected: e.shape, found: t.shape)
            }
            let data = try file.floats(prefix + e.name)
            for i in 0..<e.count where !data[i].isFinite { throw SafeTensorsError.nonFinite(e.name) }
            (base + e.offset).update(from: data, count: e.count)
        }
    }
}
