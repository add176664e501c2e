import Engine
import Foundation
import Media

extension StudioApp {
    /// What the Studio is doing besides showing its panes: exactly one at a time, by construction.
    enum Mode: Equatable {
        /// The panes, nothing over them.
        case browse
        /// The key list over the panes, scrolled by `scroll` lines.
        case help(scroll: Int)
        /// The `:` command line, with what has been typed so far.
        case command(String)
        /// A yes/no question; `y` does `action`, anything else keeps things as they are.
        case confirm(prompt: String, action: PendingAction)
        /// The recorded denoising steps of the selected junction's result: step `index`, x_t when `noisy`.
        case stepThrough(index: Int, noisy: Bool)
        /// The selected junction's result beside its ground truth.
        case compare

        var isStepping: Bool {
            if case .stepThrough = self { return true }
            return false
        }

        var isHelp: Bool {
            if case .help = self { return true }
            return false
        }
    }

    /// What a confirmation carries out when the answer is yes.
    enum PendingAction: Equatable {
        /// Export the composition over an existing file.
        case export(path: String)
        /// Write the plan over an existing file.
        case savePlan(path: String)
        /// Quit while a job runs (what it was making is lost).
        case quit
    }

    /// A junction's settings and its two clips, as a result was made from them.
    struct ResultSource: Equatable, Sendable {
        var junction: Plan.Junction
        var clips: [String]
    }

    /// A generated transition and what made it: shown only while the junction is still made of the same.
    struct JunctionResult {
        let source: ResultSource
        let result: InfillResult
        /// Filled the first time compare opens on this result.
        var comparison: Comparison?
    }

    /// A result beside its ground truth, with each frame's PSNR and SSIM: computed once per result, when
    /// compare opens, never while drawing; dropped with the result it measures.
    struct Comparison {
        let truth: [RGBImage]
        let psnr: [Double]
        let ssim: [Double]
    }
}
