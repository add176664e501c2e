import ArgumentParser
import Core
import Diffusion
import Engine
import Foundation
import MavinModel
import Media

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a MAVIN model with consecutive noising and variable-length sampling.",
        discussion: """
            Writes OUT (the EMA weights, codec and config), OUT.state.safetensors (optimiser state for --resume), \
            OUT.log.jsonl (one line per step) and OUT.loss.png; never over an earlier run's (--resume continues \
            it). Ctrl-C or SIGTERM saves a checkpoint, then ends by the signal.
            """)

    @Option(parsing: .upToNextOption, help: "Folders (or files) of training videos.") var data: [String]
    @Option(name: .shortAndLong, help: "Checkpoint to write.") var out: String
    @Option(help: "Model preset: tiny, small (pixel-space PCA latents) or motion (flows to both boundary frames).")
    var config: String = "small"
    @Option(help: "Total optimiser steps.") var steps: Int = 4000
    @Option(help: "Windows per step.") var batch: Int = 2
    @Option(help: "Peak learning rate.") var lr: Float = 3e-4
    @Option(help: "Cosine-decay the learning rate over the last N steps (0: constant).") var decaySteps: Int = 0
    @Option(help: "Use every Nth frame of the videos.") var sampleRate: Int = 2
    @Option(help: "Validation every N steps.") var evalEvery: Int = 250
    @Option(help: "Checkpoint every N steps.") var saveEvery: Int = 250
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "What the network predicts: v, epsilon or sample (x₀).") var prediction: Prediction?
    @Option(help: "Training corruption: consecutive (MAVIN) or seine (ablation).") var masking: Masking = .consecutive
    @Flag(help: "Train without boundary frame guidance (ablation).") var noBfg = false
    @Option(
        help:
            ArgumentHelp(
                "Residual anchor: crossfade (learn the correction to a boundary crossfade) or none (the paper's "
                    + "plain target).")
    )
    var anchor: String?
    @Option(
        help:
            ArgumentHelp(
                "Blend curve of the anchor: 0 = linear crossfade; larger eases each boundary in and out (default "
                    + "12, see Samples/models/README.md).")
    )
    var anchorSharpness: Float?
    @Option(
        help: ArgumentHelp(
            "Motion models: add λ × a photometric loss (frames warped from x̂₀ against the true frames, "
                + "MSE of RGB in 0…1) to the latent loss.", valueName: "λ"))
    var photometric: Float?
    @Flag(
        help: ArgumentHelp(
            "Motion models: the photometric loss is the frames' mean ln(MSE), what a mean PSNR measures (λ of a few "
                + "units), instead of their mean MSE."))
    var photometricLog = false
    @Option(
        help: ArgumentHelp(
            "Share of windows trained at t = T − 1, where one-step sampling starts (the rest uniform).",
            valueName: "p"))
    var pureNoise: Float?
    @Option(
        help: ArgumentHelp(
            "Share of windows whose gap is centred on a labelled transition of a synthetic take (its folder's "
                + "manifest.json), as evaluation's cases are (the rest anywhere).",
            valueName: "p"))
    var transitions: Float?
    @Flag(help: "Continue from OUT and OUT.state.safetensors.") var resume = false
    @Option(help: "Start from the weights of another checkpoint of the same shape.") var initFrom: String?
    @Option(
        help: ArgumentHelp(
            "Weigh each infill frame's error by (1 + ε) / (ε + the anchor's error there), so frames the anchor "
                + "nearly gets right count in relative terms, as frame-averaged PSNR counts them (needs "
                + "--anchor crossfade, --prediction sample).",
            valueName: "ε"))
    var relativeLoss: Float?

    func run() throws {
        let cfg = try ModelConfig.forTraining(
            preset: config, masking: masking, bfg: !noBfg, anchor: anchor, anchorSharpness: anchorSharpness,
            prediction: prediction)
        let counts = [
            ("--steps", steps), ("--batch", batch), ("--sample-rate", sampleRate), ("--eval-every", evalEvery),
            ("--save-every", saveEvery)
        ]
        for (name, value) in counts where value <= 0 {
            throw ValidationError("\(name) must be a positive whole number (got \(value))")
        }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number (got \(lr))") }
        guard decaySteps >= 0 else {
            throw ValidationError("--decay-steps must be 0 (a constant rate) or more (got \(decaySteps))")
        }
        // A window's activations take tens of MB: beyond 64 a step would not fit in memory anyway.
        guard batch <= 64 else { throw ValidationError("--batch \(batch) is more than 64 windows a step; use 1…64") }
        var o = TrainOptions(data: data, output: URL(fileURLWithPath: out), config: cfg)
        o.photometricWeight = photometric
        o.photometricInDecibels = photometricLog
        o.pureNoiseShare = pureNoise
        o.transitionShare = transitions
        o.steps = steps
        o.batch = batch
        o.learningRate = lr
        o.decaySteps = decaySteps
        o.sampleRate = sampleRate
        o.evalEvery = evalEvery
        o.saveEvery = saveEvery
        o.seed = seed
        o.resume = resume
        o.initFrom = initFrom.map { URL(fileURLWithPath: $0) }
        o.relativeLossEpsilon = relativeLoss
        let cancel = CancelFlag()
        // Ctrl-C and SIGTERM (kill, a scheduler, a shutdown) both checkpoint and stop.
        let latch = SignalLatch([SIGINT, SIGTERM]) { _ in
            cancel.cancel()
            FileHandle.standardError.write(Data("\nmavin: stopping after this step (checkpoint follows)…\n".utf8))
        }
        let view = JobProgressView()
        do {
            _ = try JobRunner.runToEnd(TrainJob(options: o), cancel: cancel, events: view.show)
            view.end()
        } catch EngineError.cancelled {
            view.end()
            print("stopped; resume with the same command and --resume")
            // Checkpointed, then ended by the signal, as without us: `train && eval` does not go on.
            fflush(stdout)
            if let number = latch.caught { PartialFiles.endBySignal(number) }
        }
    }
}

struct LossChartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loss-chart",
        abstract: "Draw the loss chart of a training log (CKPT.log.jsonl) as a PNG, as `train` does at each checkpoint."
    )
    @Argument(help: "The training log.") var log: String
    @Option(name: .shortAndLong, help: "PNG to write.") var output: String
    @Flag(help: "Replace OUTPUT if it exists.") var overwrite = false

    func run() throws {
        PartialFiles.removeOnSignal()
        try OutputTarget.check(output, kind: .file, overwrite: overwrite, inputs: [log])
        let records = try LossCurve.read(URL(fileURLWithPath: log))
        guard !records.isEmpty else {
            throw ValidationError(
                "'\(log)' holds no training records (JSON lines with step and loss, as `mavin train` writes to "
                    + "CKPT.log.jsonl beside its checkpoint); give the training log")
        }
        guard records.count >= 2 else {
            throw ValidationError("'\(log)' has 1 training record; a chart needs at least 2")
        }
        try PNG.write(LossCurve.render(records), to: URL(fileURLWithPath: output), overwrite: overwrite)
        print("\(output): \(records.count) records, steps \(records.first!.step)…\(records.last!.step)")
    }
}
