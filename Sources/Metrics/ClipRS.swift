import Foundation
import Media

/// A similarity between two frames, for CLIP-RS and CLIPSIM.
public protocol FrameSimilarity: Sendable {
    /// Named in every report.
    var name: String { get }
    func similarity(_ a: RGBImage, _ b: RGBImage) -> Double
}

/// The default similarity (no CLIP weights exist offline): SSIM of each frame's luma
/// standardised to mean 128 and standard deviation 48. A global gain or offset (darker,
/// more contrast) then leaves the similarity unchanged, as CLIP embeddings mostly do,
/// while changes of structure between frames still count.
public struct SSIMSimilarity: FrameSimilarity {
    public init() {}
    public var name: String { "ssim (standardised luma)" }
    public func similarity(_ a: RGBImage, _ b: RGBImage) -> Double {
        ImageQuality.ssim(luma: Self.standardised(a.luma()), Self.standardised(b.luma()), width: a.width, height: a.height)
    }

    static func standardised(_ l: [Float]) -> [Float] {
        let n = Float(l.count)
        let mean = l.reduce(0, +) / n
        var v: Float = 0
        for x in l { v += (x - mean) * (x - mean) }
        let sd = (v / n).squareRoot()
        guard sd > 1e-3 else { return [Float](repeating: 128, count: l.count) }
        return l.map { 128 + 48 * ($0 - mean) / sd }
    }
}

/// Cosine similarity of image embeddings from an encoder (e.g. a CLIP ViT).
public struct EmbeddingSimilarity: FrameSimilarity {
    public let name: String
    public let embed: @Sendable (RGBImage) -> [Float]
    public init(name: String, embed: @escaping @Sendable (RGBImage) -> [Float]) { self.name = name; self.embed = embed }
    public func similarity(_ a: RGBImage, _ b: RGBImage) -> Double { cosine(embed(a), embed(b)) }
}

public func cosine(_ a: [Float], _ b: [Float]) -> Double {
    var ab = 0.0, aa = 0.0, bb = 0.0
    for i in 0..<a.count { ab += Double(a[i] * b[i]); aa += Double(a[i] * a[i]); bb += Double(b[i] * b[i]) }
    return ab / max(1e-12, (aa * bb).squareRoot())
}

/// CLIP-RS, MAVIN's Eq. 9: the mean over adjacent frame pairs of
/// min(sim(p_{i−1}, p_i), sim(q_{i−1}, q_i)) / max(…), p generated, q ground truth.
/// 1 when the generated video changes between frames exactly as much as the truth.
public func clipRS(generated p: [RGBImage], truth q: [RGBImage], similarity: FrameSimilarity) -> Double {
    precondition(p.count == q.count && p.count >= 2, "CLIP-RS needs two equally long videos of ≥ 2 frames")
    // Adjacent pairs are independent: score them on all cores.
    var ratios = [Double](repeating: 0, count: p.count - 1)
    let lock = NSLock()
    DispatchQueue.concurrentPerform(iterations: p.count - 1) { k in
        let i = k + 1
        let sp = similarity.similarity(p[i - 1], p[i]), sq = similarity.similarity(q[i - 1], q[i])
        let hi = max(sp, sq), lo = min(sp, sq)
        let r = hi <= 0 ? (lo == hi ? 1 : 0) : lo / hi
        lock.lock(); ratios[k] = r; lock.unlock()
    }
    return ratios.reduce(0, +) / Double(p.count - 1)
}

/// CLIPSIM: mean cosine between generated and ground-truth frame embeddings.
public func clipSim(generated p: [RGBImage], truth q: [RGBImage], similarity: EmbeddingSimilarity) -> Double {
    zip(p, q).reduce(0.0) { $0 + similarity.similarity($1.0, $1.1) } / Double(max(1, p.count))
}

/// All scores of a generated clip against its ground truth.
public struct Scores: Codable, Equatable, Sendable {
    public var psnr: Double
    public var ssim: Double
    public var ms_ssim: Double
    public var clip_rs: Double
    public var similarity: String

    public static func measure(generated: [RGBImage], truth: [RGBImage], similarity: FrameSimilarity = SSIMSimilarity()) -> Scores {
        let n = Double(generated.count)
        var psnr = 0.0, ssim = 0.0, ms = 0.0
        // Frames are independent: measure them in parallel.
        var per = [(Double, Double, Double)](repeating: (0, 0, 0), count: generated.count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: generated.count) { i in
            let r = (ImageQuality.psnr(generated[i], truth[i]), ImageQuality.ssim(generated[i], truth[i]), ImageQuality.msssim(generated[i], truth[i]))
            lock.lock(); per[i] = r; lock.unlock()
        }
        for r in per { psnr += r.0; ssim += r.1; ms += r.2 }
        let rs = generated.count >= 2 ? clipRS(generated: generated, truth: truth, similarity: similarity) : 1
        return Scores(psnr: psnr / n, ssim: ssim / n, ms_ssim: ms / n, clip_rs: rs, similarity: similarity.name)
    }
}
