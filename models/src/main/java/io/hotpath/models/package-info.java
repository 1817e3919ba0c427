/**
 * The built-in models and their data: {@code minilm} and {@code minilm-q} (all-MiniLM-L6-v2 from
 * the langchain4j jars on Maven Central, with its tokenizer), {@code mlp} and {@code cnn}
 * (generated from a fixed seed), three tree ensembles XGBoost trained on real data
 * ({@link io.hotpath.models.XgboostModels}, with the rows and XGBoost's own answers), the
 * calibration, validation and sample sentences, and
 * {@link io.hotpath.models.ModelCatalog}, which resolves an alias or a file to a path.
 *
 * <p>Used by the CLI, the benchmarks, the examples and the tests; not by the engines' or the
 * optimizer's main code, so an application that embeds them does not carry ~99 MB of model jars.
 *
 * <p>May depend on: {@code onnx-model} and the artifacts that ship MiniLM.
 */
package io.hotpath.models;
