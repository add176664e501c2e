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

        /// What the preview pane shows in this mode: the recorded steps, the comparison, else what the panes
        /// choose (an overlay or a question over them changes nothing there).
        var previewView: PreviewView {
            switch self {
            case .stepThrough: return .steps
            case .compare: return .comparison
            case .browse, .help, .command, .confirm: return .panes
            }
        }

        /// The keys this mode adds to the focused pane's (`KeyMap.action`), nil for none.
        var keyContext: KeyContext? {
            switch previewView {
            case .steps: return .stepThrough
            case .comparison: return .compare
            case .panes: return nil
            }
        }
    }

    enum PreviewView { case steps, comparison, panes }

    /// What a confirmation carries out when the answer is yes.
    enum PendingAction: Equatable {
        /// Export the composition over an existing file.
        case export(path: String)
        /// Write the plan over an existing file.
        case savePlan(path: String)
        /// Quit while a job runs (what it was making is lost).
        case quit
    }

    /// What saving the plan to a path may do, from what is there now (`checkSave`).
    enum SaveCheck: Equatable {
        /// Nothing there, or the plan as this Studio last read or wrote it there: written without asking.
        case free
        /// A plan equal to the one being saved, its comments and layout aside: left as it is.
        case same
        /// Replaced only after `y` to this question.
        case ask(String)
        /// Never replaced by a plan, whatever the answer: why, and what to do instead.
        case refused(String)
    }

    /// A junction's settings and its two clips, as a result was made from them (`source(of:)`: with what has no
    /// effect for the loaded model left at its default).
    struct ResultSource: Equatable, Sendable {
        var junction: Plan.Junction
        var clips: [String]
    }

    /// A generated transition and what made it: shown while a junction is made of the same.
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
