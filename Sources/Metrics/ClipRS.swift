import Core
import Foundation
import Media

/// What a similarity compares, computed once per frame (standardised luma, an embedding).
public struct FrameFeatures: Sendable {
    public var values: [Float]
    public var width: Int, height: Int
    public init(values: [Float], width: Int, height: Int) {
        self.values = values
        self.width = width
        self.height = height
    }
}

/// A similarity between two frames, for CLIP-RS and CLIPSIM. Frames are reduced to
/// features once, so a frame shared by two adjacent pairs is not measured twice.
public protocol FrameSimilarity: Sendable {
    /// Named in every report.
    var name: String { get }
    func features(_ frame: RGBImage) -> FrameFeatures
    func similarity(_ a: FrameFeatures, _ b: FrameFeatures) -> Double
}

extension FrameSimilarity {
    public func similarity(_ a: RGBImage, _ b: RGBImage) -> Double { similarity(features(a), features(b)) }
}

/// The default similarity (no CLIP weights exist offline): SSIM of each frame's luma
/// standardised to mean 128 and standard deviation 48. A global gain or offset (darker,
/// more contrast) then leaves the similarity unchanged, as CLIP embeddings mostly do,
/// while changes of structure between frames still count.
public struct SSIMSimilarity: FrameSimilarity {
    public init() {}
    public var name: String { "ssim (standardised luma)" }
    public func features(_ frame: RGBImage) -> FrameFeatures {
        FrameFeatures(values: Self.standardised(frame.luma()), width: frame.width, height: frame.height)
    }
    public func similarity(_ a: FrameFeatures, _ b: FrameFeatures) -> Double {
        ImageQuality.ssim(luma: a.values, b.values, width: a.width, height: a.height)
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
    public init(name: String, embed: @escaping @Sendable (RGBImage) -> [Float]) {
        self.name = name
        self.embed = embed
    }
    public func features(_ frame: RGBImage) -> FrameFeatures {
        FrameFeatures(values: embed(frame), width: frame.width, height: frame.height)
    }
    public func similarity(_ a: FrameFeatures, _ b: FrameFeatures) -> Double { cosine(a.values, b.values) }
}

public func cosine(_ a: [Float], _ b: [Float]) -> Double {
    var ab = 0.0
    var aa = 0.0
    var bb = 0.0
    for i in 0..<a.count {
        ab += Double(a[i] * b[i])
        aa += Double(a[i] * a[i])
        bb += Double(b[i] * b[i])
    }
    return ab / max(1e-12, (aa * bb).squareRoot())
}

/// sim(f_{i−1}, f_i) for every adjacent pair of a video.
public func adjacentSimilarities(_ frames: [RGBImage], similarity: FrameSimilarity) -> [Double] {
    let features = parallelMap(frames.count) { similarity.features(frames[$0]) }
    return parallelMap(max(0, frames.count - 1)) { similarity.similarity(features[$0], features[$0 + 1]) }
}

/// CLIP-RS, MAVIN's Eq. 9, from the adjacent similarities of the generated (p) and
/// ground-truth (q) videos: mean over pairs of min(sp, sq) / max(sp, sq).
public func clipRS(generated sp: [Double], truth sq: [Double]) -> Double {
    precondition(sp.count == sq.count && !sp.isEmpty, "CLIP-RS needs two equally long videos of ≥ 2 frames")
    let ratios = zip(sp, sq).map { a, b -> Double in
        let hi = max(a, b)
        let lo = min(a, b)
        return hi <= 0 ? (lo == hi ? 1 : 0) : lo / hi
    }
    return ratios.reduce(0, +) / Double(ratios.count)
}

/// CLIP-RS of two videos (1 when the generated video changes between frames exactly as much as the truth).
public func clipRS(generated p: [RGBImage], truth q: [RGBImage], similarity: FrameSimilarity) -> Double {
    precondition(p.count == q.count && p.count >= 2, "CLIP-RS needs two equally long videos of ≥ 2 frames")
    return clipRS(
        generated: adjacentSimilarities(p, similarity: similarity),
        truth: adjacentSimilarities(q, similarity: similarity))
}

/// Relative smoothness without ground truth: CLIP-RS's ratio (Eq. 9) with the clips around the
/// transition as the reference pace. Each adjacent pair of xˢ, g₁…g_l, xᵉ is compared, min/max, with
/// the mean adjacent similarity of the reference frames (each clip's own, both pooled): 1 when the
/// transition changes from frame to frame as much as the clips do; a hold then a jump, or a cut, lower.
/// Frames are measured with their long side at most 256. The clips are measured once, so a sampler
/// can score every step's transition against them.
public struct ClipPace: Sendable {
    public let similarity: FrameSimilarity
    /// The clips' mean adjacent similarity.
    public let pace: Double

    /// nil when no clip has two frames.
    public init?(references: [[RGBImage]], similarity: FrameSimilarity = SSIMSimilarity()) {
        let adjacent = references.filter { $0.count >= 2 }.flatMap {
            adjacentSimilarities(ClipPace.small($0), similarity: similarity)
        }
        guard !adjacent.isEmpty else { return nil }
        self.similarity = similarity
        pace = adjacent.reduce(0, +) / Double(adjacent.count)
    }

    /// The score of xˢ, g₁…g_l, xᵉ (nil for fewer than two frames).
    public func score(transition: [RGBImage]) -> Double? {
        guard transition.count >= 2 else { return nil }
        let sp = adjacentSimilarities(ClipPace.small(transition), similarity: similarity)
        return clipRS(generated: sp, truth: [Double](repeating: pace, count: sp.count))
    }

    static func small(_ frames: [RGBImage]) -> [RGBImage] {
        frames.map { f in
            let scale = min(1, 256 / Double(max(f.width, f.height)))
            guard scale < 1 else { return f }
            return f.resized(width: max(2, Int(Double(f.width) * scale)), height: max(2, Int(Double(f.height) * scale)))
        }
    }
}

/// `ClipPace` of `references`, scoring one transition.
public func clipRSAgainstClips(
    transition: [RGBImage], references: [[RGBImage]],
    similarity: FrameSimilarity = SSIMSimilarity()
) -> Double? {
    ClipPace(references: references, similarity: similarity)?.score(transition: transition)
}

/// CLIPSIM: mean cosine between generated and ground-truth frame embeddings.
public func clipSim(generated p: [RGBImage], truth q: [RGBImage], similarity: EmbeddingSimilarity) -> Double {
    zip(p, q).reduce(0.0) { $0 + similarity.similarity($1.0, $1.1) } / Double(max(1, p.count))
}

/// A ground-truth clip measured once (luma planes and adjacent similarities), so that
/// every method scored against it pays only for its own frames.
public struct MeasuredTruth: Sendable {
    public let frames: [RGBImage]
    public let similarity: FrameSimilarity
    let luma: [[Float]]
    /// sim(q_{i−1}, q_i) for each adjacent pair of the truth.
    public let adjacent: [Double]

    public init(_ frames: [RGBImage], similarity: FrameSimilarity = SSIMSimilarity()) {
        self.frames = frames
        self.similarity = similarity
        luma = parallelMap(frames.count) { frames[$0].luma() }
        adjacent = adjacentSimilarities(frames, similarity: similarity)
    }

    /// CLIP-RS of a generated clip against this truth (only the generated frames are measured).
    public func clipRS(_ generated: [RGBImage]) -> Double {
        Metrics.clipRS(generated: adjacentSimilarities(generated, similarity: similarity), truth: adjacent)
    }

    /// CLIP-RS of a generated clip whose adjacent similarities `sp` are already measured.
    public func clipRS(adjacent sp: [Double]) -> Double { Metrics.clipRS(generated: sp, truth: adjacent) }
}

/// All scores of a generated clip against its ground truth.
public struct Scores: Codable, Equatable, Sendable {
    public var psnr: Double
    public var ssim: Double
    public var ms_ssim: Double
    public var clip_rs: Double
    public var similarity: String
    /// PSNR of each generated frame, in order (the mean is `psnr`).
    public var frame_psnr: [Double]
    /// Mean over frames of the Laplacian-variance ratio generated / true: 1 is as sharp as the truth,
    /// a blurred or dissolved frame scores below (PSNR rewards blur; this exposes it).
    public var sharpness: Double
    /// The generated clip's adjacent similarities sim(p_{i−1}, p_i), what CLIP-RS compares with the truth's:
    /// higher than the truth's where the clip changes too little (a hold), lower where it jumps.
    public var adjacent: [Double]

    /// The means of the frames' (PSNR, SSIM, MS-SSIM, sharpness), with the clip's CLIP-RS and adjacent similarities.
    init(frames per: [(Double, Double, Double, Double)], clipRS: Double, similarity: String, adjacent: [Double]) {
        let n = Double(per.count)
        psnr = per.reduce(0) { $0 + $1.0 } / n
        ssim = per.reduce(0) { $0 + $1.1 } / n
        ms_ssim = per.reduce(0) { $0 + $1.2 } / n
        sharpness = per.reduce(0) { $0 + $1.3 } / n
        clip_rs = clipRS
        self.similarity = similarity
        frame_psnr = per.map(\.0)
        self.adjacent = adjacent
    }

    public static func measure(generated: [RGBImage], truth: MeasuredTruth) -> Scores {
        precondition(generated.count == truth.frames.count, "the generated and truth clips differ in length")
        // Frames are independent: measure them in parallel; each frame's luma is made once.
        let per = parallelMap(generated.count) {
            frameScores(generated[$0], truth: truth.frames[$0], truthLuma: truth.luma[$0])
        }
        let sp = adjacentSimilarities(generated, similarity: truth.similarity)
        let rs = generated.count >= 2 ? truth.clipRS(adjacent: sp) : 1
        return Scores(frames: per, clipRS: rs, similarity: truth.similarity.name, adjacent: sp)
    }

    public static func measure(generated: [RGBImage], truth: [RGBImage], similarity: FrameSimilarity = SSIMSimilarity())
        -> Scores
    {
        measure(generated: generated, truth: MeasuredTruth(truth, similarity: similarity))
    }

    /// PSNR, SSIM, MS-SSIM and the sharpness ratio of one generated frame against its truth.
    static func frameScores(_ g: RGBImage, truth t: RGBImage, truthLuma: [Float]) -> (Double, Double, Double, Double) {
        let luma = g.luma()
        let q = ImageQuality.ssimAndMSSSIM(luma: luma, truthLuma, width: g.width, height: g.height)
        let sharp =
            ImageQuality.laplacianVariance(luma, width: g.width, height: g.height)
            / max(1e-9, ImageQuality.laplacianVariance(truthLuma, width: g.width, height: g.height))
        return (ImageQuality.psnr(g, t), q.ssim, q.msssim, sharp)
    }

    /// The same scores as `measure(generated:truth:)`, of two clips of `count` frames read `chunk` frames at a
    /// time in order, so a long clip never sits in memory: only a chunk and the last frame's features are kept.
    public static func measure(
        count: Int, chunk: Int = 16, similarity: FrameSimilarity = SSIMSimilarity(),
        generated: (Int) throws -> RGBImage, truth: (Int) throws -> RGBImage
    ) throws -> Scores {
        precondition(count > 0 && chunk > 0, "scores need at least one frame")
        var per: [(Double, Double, Double, Double)] = []
        var sp: [Double] = []
        var sq: [Double] = []
        var last: (FrameFeatures, FrameFeatures)?
        for start in stride(from: 0, to: count, by: chunk) {
            let k = min(chunk, count - start)
            let gs = try (start..<(start + k)).map(generated)
            let ts = try (start..<(start + k)).map(truth)
            per += parallelMap(k) { frameScores(gs[$0], truth: ts[$0], truthLuma: ts[$0].luma()) }
            let gf = parallelMap(k) { similarity.features(gs[$0]) }
            let tf = parallelMap(k) { similarity.features(ts[$0]) }
            for i in 0..<k {
                if let (pg, pt) = last {
                    sp.append(similarity.similarity(pg, gf[i]))
                    sq.append(similarity.similarity(pt, tf[i]))
                }
                last = (gf[i], tf[i])
            }
        }
        let rs = count >= 2 ? clipRS(generated: sp, truth: sq) : 1
        return Scores(frames: per, clipRS: rs, similarity: similarity.name, adjacent: sp)
    }
}
