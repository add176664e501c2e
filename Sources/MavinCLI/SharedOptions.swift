import ArgumentParser
import Engine

/// `--model`, as every command that runs the model takes it; the search order is `DefaultModel`'s, stated once.
struct ModelOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Model checkpoint (default: $MAVIN_MODEL, a plan's model, share/mavin/models beside the binary, "
                + "then ./Samples/models/mavin-motion.safetensors)."))
    var model: String?
}

/// The sampler's options of one transition. Their ranges are the settings table's (`JunctionSettings`): `pairs`
/// hands them to it. Numbers take the next word whatever it is (`.unconditional`), so `--seed -1` is refused by
/// that table with its range, not as a missing value.
struct SamplerOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp(JunctionSettings.help("f0")))
    var f0: Float = SamplerSettings().f0
    @Option(parsing: .unconditional, help: ArgumentHelp(JunctionSettings.help("lambda")))
    var lambda: Float = SamplerSettings().lambda
    @Flag(help: "Plain Gaussian initial noise instead of GFM (the default; GFM is on only with --gfm).")
    var noGfm = false
    @Flag(help: "GFM initial noise (the paper's).") var gfm = false
    @Flag(help: "Do not add back the boundary frames' fine detail that the latent codec drops (ablation).")
    var noDetail = false
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(JunctionSettings.help("steps") + " More: a more decided sample, lower PSNR."))
    var steps: Int = SamplerSettings().steps
    @Option(parsing: .unconditional, help: ArgumentHelp(JunctionSettings.help("strength")))
    var strength: Float = SamplerSettings().strength
    @Option(parsing: .unconditional, help: ArgumentHelp(JunctionSettings.help("eta")))
    var eta: Float = SamplerSettings().eta
    @Option(parsing: .unconditional, help: ArgumentHelp(JunctionSettings.help("seed")))
    var seed: UInt64 = SamplerSettings().seed
    @Option(help: ArgumentHelp(JunctionSettings.help("warp"))) var warp: String?
    // Passed to the table as typed, so that a refusal quotes what was typed.
    @Option(parsing: .unconditional, help: ArgumentHelp(JunctionSettings.help("carry"))) var carry: String?
    @Option(parsing: .unconditional, help: ArgumentHelp(JunctionSettings.help("ease"))) var ease: String?
    @Option(help: ArgumentHelp(JunctionSettings.help("easing"))) var easing: String?

    /// The options as (key, value) pairs for `JunctionSettings.junction`.
    var pairs: [(key: String, value: String)] {
        [
            ("f0", "\(f0)"), ("lambda", "\(lambda)"), ("gfm", gfm && !noGfm ? "on" : "off"),
            ("detail", noDetail ? "off" : "on"), ("steps", "\(steps)"), ("strength", "\(strength)"),
            ("eta", "\(eta)"), ("seed", "\(seed)")
        ] + (warp.map { [("warp", $0)] } ?? []) + (carry.map { [("carry", $0)] } ?? [])
            + (ease.map { [("ease", $0)] } ?? []) + (easing.map { [("easing", $0)] } ?? [])
    }
}
