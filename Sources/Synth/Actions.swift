import Foundation

/// The motion cycle of each action: a pose at time τ (seconds into the action)
/// and a ground speed in body units per second.
public enum ActionCycle {
    /// Cycle periods in seconds (walk and run have different cadences).
    public static func period(_ action: Action) -> Double {
        switch action {
        case .stand: return 3.0
        case .walk: return 1.1
        case .run: return 0.42
        case .jump: return 1.3
        case .graze: return 2.2
        case .rear: return 2.4
        case .turn: return 1.2
        }
    }

    public static func speed(_ action: Action, at tau: Double) -> Float {
        switch action {
        case .walk: return 0.55
        case .run: return 2.6
        case .jump:
            let u = (tau / period(.jump)).truncatingRemainder(dividingBy: 1)
            return u > 0.22 && u < 0.78 ? 1.7 : 0.35
        case .turn: return 0.1
        default: return 0
        }
    }

    /// `progress` (0…1) matters only for `turn`, which needs to know how far round it is.
    public static func pose(_ action: Action, at tau: Double, progress: Double, facing: Float) -> Pose {
        var p = Pose()
        p.facing = facing
        let t = Float(tau)
        let w = Float(2 * Double.pi / period(action))
        func gait(offsets: [Float], swing: Float, fold: Float) {
            for i in 0..<4 {
                let phi = w * t + 2 * .pi * offsets[i]
                p.legs[i] = Leg(hip: swing * sin(phi), knee: fold * max(0, cos(phi)))
            }
        }
        switch action {
        case .stand:
            p.legs = [
                Leg(hip: -0.05, knee: 0.05), Leg(hip: -0.02, knee: 0.05), Leg(hip: 0.04, knee: 0.03),
                Leg(hip: 0.06, knee: 0.03)
            ]
            p.neck = 1.0 + 0.04 * sin(t * 1.3)
            p.head = -0.6
            p.tail = -1.25 + 0.12 * sin(t * 2.1)
        case .walk:
            // Lateral-sequence walk: LH, LF, RH, RF a quarter cycle apart.
            gait(offsets: [0, 0.5, 0.25, 0.75], swing: 0.36, fold: 0.55)
            p.neck = 0.6 + 0.05 * sin(2 * w * t)
            p.head = -0.45
            p.tail = -1.1 + 0.08 * sin(w * t)
        case .run:
            // Rotary gallop: hind pair close together, fore pair half a cycle later.
            gait(offsets: [0, 0.09, 0.5, 0.6], swing: 0.75, fold: 1.1)
            p.pitch = 0.07 * sin(w * t)
            p.lift = 0.05 * max(0, sin(w * t + 1.2))
            p.neck = 0.35 + 0.1 * sin(w * t)
            p.head = -0.25
            p.tail = -0.45 + 0.1 * sin(w * t)
        case .jump:
            let u = Float((tau / period(.jump)).truncatingRemainder(dividingBy: 1))
            if u < 0.22 {  // crouch and push
                let c = sin(.pi * u / 0.22)
                p.legs = [
                    Leg(hip: -0.3 * c, knee: 0.9 * c), Leg(hip: -0.25 * c, knee: 0.9 * c),
                    Leg(hip: 0.35 * c, knee: 0.8 * c), Leg(hip: 0.3 * c, knee: 0.8 * c)
                ]
                p.pitch = 0.12 * c
            } else if u < 0.78 {  // airborne: ballistic path, legs tucked
                let s = (u - 0.22) / 0.56
                p.lift = 0.15 + 0.95 * 4 * s * (1 - s)
                p.legs = [
                    Leg(hip: -0.8, knee: 1.3), Leg(hip: -0.75, knee: 1.25), Leg(hip: 1.0, knee: 1.6),
                    Leg(hip: 0.95, knee: 1.5)
                ]
                p.pitch = 0.35 * (1 - 2 * s)
            } else {  // landing
                let c = sin(.pi * (u - 0.78) / 0.22)
                p.legs = [
                    Leg(hip: 0.2 * c, knee: 0.7 * c), Leg(hip: 0.15 * c, knee: 0.7 * c),
                    Leg(hip: -0.2 * c, knee: 0.6 * c), Leg(hip: -0.25 * c, knee: 0.6 * c)
                ]
                p.pitch = -0.1 * c
            }
            p.neck = 0.5
            p.head = -0.3
            p.tail = -0.3
        case .graze:
            p.legs = [
                Leg(hip: -0.06, knee: 0.05), Leg(hip: -0.02, knee: 0.05), Leg(hip: -0.12, knee: 0.05),
                Leg(hip: -0.08, knee: 0.05)
            ]
            p.neck = -1.05 + 0.06 * sin(w * t)
            p.head = -1.45 + 0.12 * sin(2 * w * t)
            p.tail = -1.2 + 0.1 * sin(w * t * 0.5)
        case .rear:
            let rise = Float(min(1, tau / 0.6))
            let r = rise * rise * (3 - 2 * rise)
            p.pitch = r * (0.95 + 0.06 * sin(w * t))
            p.legs = [
                Leg(hip: 0.12 * r, knee: 0.25 * r), Leg(hip: 0.2 * r, knee: 0.3 * r),
                Leg(hip: 1.2 * r + 0.15 * sin(w * t * 2), knee: 1.7 * r),
                Leg(hip: 1.05 * r - 0.15 * sin(w * t * 2), knee: 1.6 * r)
            ]
            p.neck = 0.6 - 0.4 * r
            p.head = -0.4 + 0.6 * r
            p.tail = -1.3
        case .turn:
            // The body swings through zero width and comes back facing the other way.
            let s = Float(min(1, max(0, progress)))
            p.facing = facing * cos(.pi * s)
            gait(offsets: [0, 0.5, 0.25, 0.75], swing: 0.15, fold: 0.3)
            p.neck = 0.7
            p.head = -0.4
            p.tail = -1.1
        }
        return p
    }
}
