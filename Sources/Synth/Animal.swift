import Foundation

/// What the animal is doing; the label every frame carries.
public enum Action: String, Codable, CaseIterable, Sendable {
    case stand, walk, run, jump, graze, rear, turn
}

/// The coat pattern drawn on the torso.
public enum Coat: String, Codable, Sendable { case plain, spots, stripes }

/// Everything random about one animal and its world, fixed by the seed.
public struct Appearance: Codable, Equatable, Sendable {
    public var body: [Float]  // RGB 0…1
    public var belly: [Float]
    public var markings: [Float]
    public var coat: Coat
    public var hoof: [Float]
    public var mane: Bool
    public var bodyLength: Float  // torso length in body units (1 ≈ 40 px at 128²)
    public var bodyHeight: Float
    public var legLength: Float  // upper + lower segment
    public var neckLength: Float
    public var headLength: Float
    public var skyTop: [Float]
    public var skyHorizon: [Float]
    public var farHills: [Float]
    public var nearHills: [Float]
    public var ground: [Float]
    public var light: Float  // overall brightness
    public var dusk: Bool

    public init(seed: UInt64) {
        var r = SeededRandom(seed: seed ^ 0xA11CE)
        func colour(_ h: Double, _ s: Double, _ v: Double) -> [Float] {
            let i = Int(h * 6) % 6
            let f = h * 6 - Double(Int(h * 6))
            let p = v * (1 - s)
            let q = v * (1 - f * s)
            let t = v * (1 - (1 - f) * s)
            let rgb: (Double, Double, Double) = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
            return [Float(rgb.0), Float(rgb.1), Float(rgb.2)]
        }
        let bodyHue = r.uniform(0.02, 0.12)
        body = colour(bodyHue, r.uniform(0.2, 0.75), r.uniform(0.25, 0.85))
        belly = colour(bodyHue, r.uniform(0.05, 0.3), r.uniform(0.7, 0.95))
        markings =
            r.uniform(0, 1) < 0.5
            ? colour(r.uniform(0, 0.1), r.uniform(0.1, 0.5), r.uniform(0.05, 0.3))
            : colour(r.uniform(0, 0.15), r.uniform(0.0, 0.2), r.uniform(0.85, 1.0))
        coat = r.pick([Coat.plain, .spots, .stripes])
        hoof = colour(0.08, 0.3, r.uniform(0.1, 0.25))
        mane = r.uniform(0, 1) < 0.6
        bodyLength = Float(r.uniform(0.9, 1.2))
        bodyHeight = Float(r.uniform(0.36, 0.48))
        legLength = Float(r.uniform(0.62, 0.85))
        neckLength = Float(r.uniform(0.35, 0.55))
        headLength = Float(r.uniform(0.3, 0.4))
        dusk = r.uniform(0, 1) < 0.3
        skyTop =
            dusk
            ? colour(r.uniform(0.6, 0.75), 0.6, 0.35)
            : colour(r.uniform(0.55, 0.62), r.uniform(0.4, 0.7), r.uniform(0.75, 0.95))
        skyHorizon = dusk ? colour(r.uniform(0.02, 0.1), 0.6, 0.9) : colour(r.uniform(0.52, 0.6), 0.2, 0.97)
        farHills = colour(r.uniform(0.25, 0.45), r.uniform(0.2, 0.45), r.uniform(0.45, 0.7))
        nearHills = colour(r.uniform(0.2, 0.35), r.uniform(0.35, 0.7), r.uniform(0.35, 0.6))
        ground = colour(r.uniform(0.12, 0.3), r.uniform(0.35, 0.7), r.uniform(0.35, 0.65))
        light = Float(r.uniform(0.85, 1.1))
    }
}

/// One leg: hip angle from straight down (positive swings forward), knee bend (positive folds back).
public struct Leg: Codable, Equatable, Sendable {
    public var hip: Float
    public var knee: Float
    public init(hip: Float = 0, knee: Float = 0) {
        self.hip = hip
        self.knee = knee
    }
}

/// The exact pose of a frame. Angles in radians; `facing` runs from +1 (right) to −1 (left).
public struct Pose: Codable, Equatable, Sendable {
    public var x: Float = 0  // world position of the torso centre, body units
    public var lift: Float = 0  // height of the whole body above ground contact
    public var pitch: Float = 0  // torso rotation, positive = nose up
    public var neck: Float = 0.7  // neck angle above horizontal
    public var head: Float = -0.5  // head angle relative to horizontal
    public var tail: Float = -1.0  // tail angle relative to horizontal (negative hangs)
    public var facing: Float = 1
    /// Left hind, right hind, left fore, right fore.
    public var legs: [Leg] = [Leg(), Leg(), Leg(), Leg()]

    public init() {}

    /// Linear blend of two poses (used for transitions).
    public static func blend(_ a: Pose, _ b: Pose, _ t: Float) -> Pose {
        func mix(_ u: Float, _ v: Float) -> Float { u + (v - u) * t }
        var p = Pose()
        p.x = mix(a.x, b.x)
        p.lift = mix(a.lift, b.lift)
        p.pitch = mix(a.pitch, b.pitch)
        p.neck = mix(a.neck, b.neck)
        p.head = mix(a.head, b.head)
        p.tail = mix(a.tail, b.tail)
        p.facing = mix(a.facing, b.facing)
        p.legs = (0..<4).map {
            Leg(hip: mix(a.legs[$0].hip, b.legs[$0].hip), knee: mix(a.legs[$0].knee, b.legs[$0].knee))
        }
        return p
    }
}
