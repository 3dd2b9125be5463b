// imgcls: the command line. It parses arguments and calls the stages: no logic and no formatting of its own (each
// module prints its own summaries). Entry: `Imgcls`. One file per command, in folders by stage, in reading order:
//   Imgcls.swift, GlobalOptions.swift   the command and its subcommands; what every one takes
//   Fetch/      FetchCommand.swift, ScrapeCommand.swift, FetchOptions.swift (option groups), FetchReporter.swift
//               (Ctrl-C and the exit status of a fetch)
//   Curate/     ImportCommand.swift, CurateCommand.swift, CurateOptions.swift (option groups), SplitCommand.swift,
//               RelabelCommand.swift, ReviewCommand.swift
//   Train/      TrainCommand.swift, TrainOptions.swift (option groups), EvaluateCommand.swift, QuantizeCommand.swift
//   Predict/    PredictCommand.swift, ServeCommand.swift, FallbackOptions.swift
//   Backbone/   BackboneCommand.swift (the group), BackboneInstallCommand.swift, BackboneListCommand.swift,
//               BackboneImportCommand.swift, BackboneClassifyCommand.swift (also `imgcls classify`)
//   RunCommand.swift, DemoCommand.swift, InspectCommand.swift, StatusCommand.swift, CatalogCommand.swift,
//   ExportCommand.swift, HashCommand.swift

import ArgumentParser
import Files

@main
struct Imgcls: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imgcls",
        abstract: "Turn lists of image URLs into a trained, evaluated image classifier, and serve it.",
        discussion: """
            The pipeline, one stage per subcommand, all sharing a workspace (./data by default):

              fetch      download labelled images from URL lists and web pages
              curate     validate, de-duplicate and flag the images
              relabel    apply label corrections you accepted (after curate --label-issues)
              split      make train/validation/test folders without leakage
              train      train a classifier on the split
              evaluate   measure a model: accuracy, per-class scores, confusion matrix
              quantize   an int8 form of a model, checked on the validation split
              predict    classify images with a model; serve: the same over HTTP
              classify   a pretrained backbone's own answer (ImageNet's classes, open_nsfw's nsfw score)

            After each stage, data/reports/index.html shows the whole workspace (open it in a browser).
            run does every stage from one YAML file; demo shows them all on generated pictures.
            Tools: inspect checks image files; status summarises the workspace.
            """,
        version: imgclsVersion,
        subcommands: [FetchCommand.self, ScrapeCommand.self, ImportCommand.self, CurateCommand.self, RelabelCommand.self, ReviewCommand.self, SplitCommand.self,
                      TrainCommand.self, EvaluateCommand.self, QuantizeCommand.self, PredictCommand.self, ServeCommand.self, BackboneClassifyCommand.self, RunCommand.self, DemoCommand.self, BackboneCommand.self, InspectCommand.self,
                      StatusCommand.self, CatalogCommand.self, ExportCommand.self, HashCommand.self]
    )
}

