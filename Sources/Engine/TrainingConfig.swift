import Diffusion
import Foundation
import MavinModel

extension ModelConfig {
    /// The config a training run asks for: a preset, then the ablation and anchor options on top, with the rules
    /// that tie them (a new anchor measures its own residual scale; the motion anchor learns its blend curve, so
    /// a sharpness is the crossfade's alone). Everything else is checked by `validate` when the run starts.
    public static func forTraining(
        preset name: String, masking: Masking = .consecutive, bfg: Bool = true, anchor: String? = nil,
        anchorSharpness: Float? = nil, prediction: Prediction? = nil
    ) throws -> ModelConfig {
        guard var cfg = ModelConfig.preset(name) else {
            throw EngineError.badTrainingOption(option: "--config \(name)", rule: "use tiny, small or motion")
        }
        cfg.masking = masking
        if !bfg { cfg.contextDim = nil }
        if let anchor {
            if anchor == "none" {
                cfg.anchor = nil
            } else {
                guard let v = Anchor(rawValue: anchor) else {
                    throw EngineError.badTrainingOption(option: "--anchor \(anchor)", rule: "use crossfade or none")
                }
                cfg.anchor = v
            }
            // Measured again on the new target when training starts.
            cfg.residualScale = nil
        }
        if cfg.anchor == .motion {
            if anchorSharpness != nil {
                throw EngineError.badTrainingOption(
                    option: "--anchor-sharpness",
                    rule: "it is for the crossfade anchor (the motion anchor learns its curve)")
            }
        } else if cfg.anchor != nil {
            cfg.anchorSharpness = anchorSharpness ?? 12
        } else if anchorSharpness != nil {
            throw EngineError.badTrainingOption(option: "--anchor-sharpness", rule: "it needs --anchor crossfade")
        }
        if let prediction { cfg.prediction = prediction }
        return cfg
    }
}
