package io.hotpath.cli;

import picocli.CommandLine.Option;

/**
 * {@code --model FILE|ALIAS}, required, one meaning wherever it appears (bench, optimize, advise):
 * an ONNX file, or a built-in alias resolved by the model catalog.
 */
final class ModelOption {
    @Option(names = "--model", required = true, paramLabel = "FILE|ALIAS",
            description = "An ONNX file or a built-in alias: ${COMPLETION-CANDIDATES}.", completionCandidates = BenchCommand.Aliases.class)
    String model;
}
