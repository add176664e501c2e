import Foundation

/// A 2D point in body units (y up) or in pixels (y down), as each use says.
public struct Point2: Codable, Equatable, Sendable {
    public var x: Float, y: Float
    public init(_ x: Float, _ y: Float) {
        self.x = x
        self.y = y
    }
    static func + (a: Point2, b: Point2) -> Point2 { Point2(a.x + b.x, a.y + b.y) }
    static func - (a: Point2, b: Point2) -> Point2 { Point2(a.x - b.x, a.y - b.y) }
    static func * (a: Point2, s: Float) -> Point2 { Point2(a.x * s, a.y * s) }
}

/// Joint positions of a posed animal in world body units: y = 0 is the ground, y up.
///
/// Leg angles are measured from straight down in the world (so a rearing torso
/// keeps its hind legs under it); neck angles are relative to the torso.
public struct Skeleton: Sendable {
    public var torso: Point2
    public var pitch: Float
    public var halfLength: Float
    public var halfHeight: Float
    public var facing: Float
    public var hips: [Point2]  // LH, RH, LF, RF attachment points
    public var knees: [Point2]
    public var hooves: [Point2]
    public var neckBase: Point2
    public var neckTop: Point2
    public var headTip: Point2
    public var ear: Point2
    public var tailBase: Point2
    public var tailTip: Point2

    /// The back line: the torso's top edge height at its centre.
    public var backHeight: Float { torso.y + halfHeight * cos(pitch) }

    public init(pose: Pose, appearance a: Appearance) {
        let L = a.bodyLength
        let H = a.bodyHeight
        let f = pose.facing
        let cp = cos(pose.pitch)
        let sp = sin(pose.pitch)
        // Local (facing right, torso centre at origin) → world offset, before the height is known.
        func body(_ lx: Float, _ ly: Float) -> Point2 { Point2((lx * cp - ly * sp) * f, lx * sp + ly * cp) }
        let upper = a.legLength * 0.5
        let lower = a.legLength * 0.5
        let attach = [
            body(-0.36 * L, -0.22 * H), body(-0.32 * L, -0.22 * H), body(0.34 * L, -0.22 * H), body(0.38 * L, -0.22 * H)
        ]
        var knees: [Point2] = []
        var hooves: [Point2] = []
        for i in 0..<4 {
            let leg = pose.legs[i]
            let hind = i < 2
            let k = attach[i] + Point2(sin(leg.hip) * f, -cos(leg.hip)) * upper
            // Hind hocks fold forward, fore knees fold back.
            let lowerAngle = hind ? leg.hip + leg.knee : leg.hip - leg.knee
            knees.append(k)
            hooves.append(k + Point2(sin(lowerAngle) * f, -cos(lowerAngle)) * lower)
        }
        let neckBase = body(0.42 * L, 0.18 * H)
        let neckAngle = pose.pitch + pose.neck
        let neckTop = neckBase + Point2(cos(neckAngle) * f, sin(neckAngle)) * a.neckLength
        let headAngle = pose.head + 0.5 * pose.pitch
        let headTip = neckTop + Point2(cos(headAngle) * f, sin(headAngle)) * a.headLength
        let ear = neckTop + Point2(cos(headAngle + 1.9) * f, sin(headAngle + 1.9)) * (a.headLength * 0.45)
        let tailBase = body(-0.5 * L, 0.2 * H)
        let tailAngle = pose.tail - pose.pitch * 0.3
        let tailTip = tailBase + Point2(-cos(tailAngle) * f, sin(tailAngle)) * (0.45 * L)

        // Ground contact: the lowest hoof stands on y = 0, then the whole body lifts.
        let lowest = hooves.map(\.y).min() ?? 0
        let height = -lowest + pose.lift
        let shift = Point2(pose.x, height)
        self.torso = shift
        self.pitch = pose.pitch
        self.halfLength = L / 2
        self.halfHeight = H / 2
        self.facing = f
        self.hips = attach.map { $0 + shift }
        self.knees = knees.map { $0 + shift }
        self.hooves = hooves.map { $0 + shift }
        self.neckBase = neckBase + shift
        self.neckTop = neckTop + shift
        self.headTip = headTip + shift
        self.ear = ear + shift
        self.tailBase = tailBase + shift
        self.tailTip = tailTip + shift
    }
}
