import Foundation

/// The ground truth of one rendered frame.
public struct FrameTruth: Codable, Equatable, Sendable {
    public var index: Int
    public var action: Action
    /// True while the pose blends from `from` into `action`.
    public var transition: Bool
    public var from: Action?
    public var pose: Pose
    public var camera: Float
}

/// A labelled frame range in a manifest.
public struct ActionRange: Codable, Equatable, Sendable {
    public var action: Action
    public var start: Int
    public var end: Int  // exclusive
}

public struct TransitionRange: Codable, Equatable, Sendable {
    public var from: Action
    public var to: Action
    public var start: Int
    public var end: Int  // exclusive
}

/// An animal performing a sequence of actions: every frame's pose and labels.
public struct Performance: Sendable {
    public var seed: UInt64
    public var fps: Double
    public var appearance: Appearance
    public var frames: [FrameTruth]

    /// `script`: actions with their durations in seconds. Each change of action
    /// blends the pose over a random 0.25–0.55 s.
    public init(seed: UInt64, fps: Double, script: [(Action, Double)]) {
        self.seed = seed
        self.fps = fps
        appearance = Appearance(seed: seed)
        var rng = SeededRandom(seed: seed ^ 0x7135)
        var frames: [FrameTruth] = []
        var x: Float = 0
        var facing: Float = 1
        var camera: Float = 0
        let dt = 1 / fps
        var previous: (action: Action, start: Double, duration: Double, facing: Float)?
        var blend = 0.0
        var index = 0
        for (action, duration) in script {
            let nFrames = max(1, Int((duration * fps).rounded()))
            blend = previous == nil ? 0 : rng.uniform(0.25, 0.55)
            let actionFacing = facing
            for k in 0..<nFrames {
                let tau = Double(k) * dt
                let progress = Double(k) / Double(max(1, nFrames - 1))
                var pose = ActionCycle.pose(action, at: tau, progress: progress, facing: actionFacing)
                var speed = ActionCycle.speed(action, at: tau)
                var inTransition = false
                if let prev = previous, tau < blend {
                    // The old cycle keeps running underneath while the new one fades in.
                    let prevTau = prev.duration + tau
                    let prevPose = ActionCycle.pose(prev.action, at: prevTau, progress: 1, facing: actionFacing)
                    var u = Float(tau / blend)
                    u = u * u * (3 - 2 * u)
                    let target = pose
                    pose = Pose.blend(prevPose, target, u)
                    pose.facing = target.facing
                    if prev.action == .turn { pose.facing = actionFacing }
                    speed = ActionCycle.speed(prev.action, at: prevTau) * (1 - u) + speed * u
                    inTransition = true
                }
                let step = speed * Float(dt) * (pose.facing >= 0 ? 1 : -1)
                x += step
                pose.x = x
                if index == 0 { camera = x }
                // The camera pans with the animal and eases towards a point a little ahead of it.
                camera += step + (x + 0.25 * (pose.facing >= 0 ? 1 : -1) - camera) * 0.06
                frames.append(
                    FrameTruth(
                        index: index, action: action, transition: inTransition,
                        from: inTransition ? previous?.action : nil, pose: pose, camera: camera))
                index += 1
            }
            if action == .turn { facing = -facing }
            previous = (action, 0, Double(nFrames) * dt, facing)
        }
        self.frames = frames
    }

    /// A random script for training data: actions of 1.5–4 s, never the same twice in a row.
    public static func randomScript(seed: UInt64, seconds: Double) -> [(Action, Double)] {
        var rng = SeededRandom(seed: seed ^ 0x5C419)
        var script: [(Action, Double)] = []
        var total = 0.0
        var last: Action?
        while total < seconds {
            var action = rng.pick(Action.allCases)
            while action == last { action = rng.pick(Action.allCases) }
            let duration = action == .turn ? rng.uniform(0.9, 1.4) : rng.uniform(1.5, 4.0)
            script.append((action, duration))
            total += duration
            last = action
        }
        return script
    }

    /// Frame ranges of each action label (transitions included in the action they lead into).
    public var actionRanges: [ActionRange] {
        var ranges: [ActionRange] = []
        for f in frames {
            if let last = ranges.last, last.action == f.action, last.end == f.index {
                ranges[ranges.count - 1].end += 1
            } else {
                ranges.append(ActionRange(action: f.action, start: f.index, end: f.index + 1))
            }
        }
        return ranges
    }

    public var transitionRanges: [TransitionRange] {
        var ranges: [TransitionRange] = []
        for f in frames where f.transition {
            if let last = ranges.last, last.end == f.index, last.to == f.action {
                ranges[ranges.count - 1].end += 1
            } else {
                ranges.append(TransitionRange(from: f.from ?? f.action, to: f.action, start: f.index, end: f.index + 1))
            }
        }
        return ranges
    }
}
