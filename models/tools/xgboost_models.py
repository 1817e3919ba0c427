#!/usr/bin/env python3
"""Trains XGBoost ensembles on datasets that ship with scikit-learn and writes each as ONNX, with
the rows it was asked about and XGBoost's own answers, for Hotpath's tests and benchmarks.

The ONNX files are written by this script's own converter (no onnxmltools is packaged where these
were made): one ai.onnx.ml tree-ensemble node whose branches are XGBoost's, `x < threshold` as
BRANCH_LT, each node's default direction for a missing value as nodes_missing_value_tracks_true.
XGBoost's predictions are written beside the model, so a reader can check the converter and the
engines against the library that trained the trees, not only against each other.

Made with Debian 12's packages: python3-xgboost 1.7.4, python3-sklearn 1.2.1, python3-onnx 1.12.
    /usr/bin/python3 models/tools/xgboost_models.py models/src/main/resources/io/hotpath/models/xgboost

Per model NAME, in the output directory:
    NAME.onnx          the ensemble
    NAME.rows          the rows, float32 little-endian, row-major (NaN where a value is missing)
    NAME.expected      XGBoost's answers for those rows, float32 little-endian: one value per row
                       (regression: the prediction; binary: the probability of class 1) or one per
                       class (multi-class probabilities)
    NAME.properties    rows, features, answers per row, objective, trees, depth, versions
"""
import json
import math
import os
import sys

import numpy as np
import onnx
import sklearn
import xgboost as xgb
from onnx import TensorProto, helper
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits

MISSING = 0.05  # the share of values blanked (NaN) in training and test rows, so default directions matter


def with_missing(x, seed):
    rng = np.random.default_rng(seed)
    x = x.astype(np.float32).copy()
    x[rng.random(x.shape) < MISSING] = np.nan
    return x


def tree_attributes(booster):
    """The ensemble's nodes as ONNX attribute lists, in XGBoost's tree order."""
    model = json.loads(booster.save_raw(raw_format="json"))
    gbm = model["learner"]["gradient_booster"]
    if gbm["name"] != "gbtree":
        raise SystemExit("only gbtree boosters convert, not " + gbm["name"])
    trees = gbm["model"]["trees"]
    groups = gbm["model"]["tree_info"]
    nodes = {k: [] for k in ("treeids", "nodeids", "featureids", "values", "modes", "true", "false", "missing")}
    leaves = {k: [] for k in ("treeids", "nodeids", "ids", "weights")}
    for t, tree in enumerate(trees):
        if any(s != 0 for s in tree.get("split_type", [])):
            raise SystemExit("tree %d has a categorical split; only numeric splits convert" % t)
        left, right = tree["left_children"], tree["right_children"]
        for n in range(len(left)):
            nodes["treeids"].append(t)
            nodes["nodeids"].append(n)
            value = float(tree["split_conditions"][n])
            if left[n] == -1:   # a leaf: XGBoost keeps its (learning-rate scaled) weight in split_conditions
                nodes["featureids"].append(0)
                nodes["values"].append(0.0)
                nodes["modes"].append("LEAF")
                nodes["true"].append(0)
                nodes["false"].append(0)
                nodes["missing"].append(0)
                leaves["treeids"].append(t)
                leaves["nodeids"].append(n)
                leaves["ids"].append(int(groups[t]))
                leaves["weights"].append(value)
            else:               # x[feature] < value goes left; a missing value goes where default_left says
                nodes["featureids"].append(int(tree["split_indices"][n]))
                nodes["values"].append(value)
                nodes["modes"].append("BRANCH_LT")
                nodes["true"].append(int(left[n]))
                nodes["false"].append(int(right[n]))
                nodes["missing"].append(int(tree["default_left"][n]))
    base_score = float(model["learner"]["learner_model_param"]["base_score"])
    return nodes, leaves, len(trees), base_score


def to_onnx(name, booster, features, objective, classes):
    nodes, leaves, count, base_score = tree_attributes(booster)
    common = dict(
        nodes_treeids=nodes["treeids"], nodes_nodeids=nodes["nodeids"], nodes_featureids=nodes["featureids"],
        nodes_values=nodes["values"], nodes_modes=nodes["modes"], nodes_truenodeids=nodes["true"],
        nodes_falsenodeids=nodes["false"], nodes_missing_value_tracks_true=nodes["missing"])
    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, ["batch", features])
    if objective == "reg:squarederror":
        node = helper.make_node("TreeEnsembleRegressor", ["X"], ["variable"], domain="ai.onnx.ml",
                                n_targets=1, base_values=[base_score], post_transform="NONE", aggregate_function="SUM",
                                target_treeids=leaves["treeids"], target_nodeids=leaves["nodeids"],
                                target_ids=leaves["ids"], target_weights=leaves["weights"], **common)
        outputs = [helper.make_tensor_value_info("variable", TensorProto.FLOAT, ["batch", 1])]
    else:
        if objective == "binary:logistic":
            # one score per row, the margin of class 1; ONNX Runtime's binary rule answers [1 - p, p]
            margin = math.log(base_score / (1 - base_score))
            extra = dict(post_transform="LOGISTIC", classlabels_int64s=[0, 1])
            if margin != 0:
                extra["base_values"] = [margin]
        elif objective == "multi:softprob":
            extra = dict(post_transform="SOFTMAX", classlabels_int64s=list(range(classes)), base_values=[base_score] * classes)
        else:
            raise SystemExit("objective " + objective + " does not convert")
        node = helper.make_node("TreeEnsembleClassifier", ["X"], ["label", "probabilities"], domain="ai.onnx.ml",
                                class_treeids=leaves["treeids"], class_nodeids=leaves["nodeids"],
                                class_ids=leaves["ids"], class_weights=leaves["weights"], **extra, **common)
        outputs = [helper.make_tensor_value_info("label", TensorProto.INT64, ["batch"]),
                   helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", classes])]
    graph = helper.make_graph([node], name.replace("-", "_"), [x], outputs)
    model = helper.make_model(graph, producer_name="hotpath xgboost_models.py", producer_version="1",
                              opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model, count


def write(out, name, booster, x, objective, classes, depth):
    model, count = to_onnx(name, booster, x.shape[1], objective, classes)
    onnx.save(model, os.path.join(out, name + ".onnx"))
    answers = booster.predict(xgb.DMatrix(x, missing=np.nan)).astype("<f4")
    x.astype("<f4").tofile(os.path.join(out, name + ".rows"))
    answers.tofile(os.path.join(out, name + ".expected"))
    per_row = answers.size // x.shape[0]
    with open(os.path.join(out, name + ".properties"), "w") as f:
        f.write("# written by models/tools/xgboost_models.py\n")
        f.write("rows=%d\nfeatures=%d\nanswers=%d\nobjective=%s\ntrees=%d\nmax_depth=%d\n" % (x.shape[0], x.shape[1], per_row, objective, count, depth))
        f.write("xgboost=%s\nsklearn=%s\nonnx=%s\n" % (xgb.__version__, sklearn.__version__, onnx.__version__))
    print("%s: %d trees, %d rows x %d features, %s" % (name, count, x.shape[0], x.shape[1], objective))


def train(x, y, params, rounds):
    return xgb.train(dict(params, seed=7, nthread=1), xgb.DMatrix(x, label=y, missing=np.nan), num_boost_round=rounds)


def main(out):
    os.makedirs(out, exist_ok=True)
    common = dict(eta=0.05, subsample=0.8, colsample_bytree=0.8, tree_method="exact")

    d = load_diabetes()  # 442 patients, 10 measurements; a disease-progression score
    x = with_missing(d.data, 1)
    depth = 8
    b = train(x, d.target, dict(common, objective="reg:squarederror", max_depth=depth, base_score=float(np.mean(d.target))), 500)
    write(out, "xgb-diabetes", b, x, "reg:squarederror", 1, depth)

    c = load_breast_cancer()  # 569 tumours, 30 measurements; malignant or benign
    x = with_missing(c.data, 2)
    depth = 6
    b = train(x, c.target, dict(common, objective="binary:logistic", max_depth=depth, base_score=0.5), 300)
    write(out, "xgb-cancer", b, x, "binary:logistic", 2, depth)

    g = load_digits()  # 1,797 8x8 images of digits, 64 pixel intensities; ten classes
    x = with_missing(g.data, 3)
    depth = 6
    b = train(x, g.target, dict(common, objective="multi:softprob", num_class=10, max_depth=depth, base_score=0.5), 40)
    write(out, "xgb-digits", b, x, "multi:softprob", 10, depth)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: xgboost_models.py OUTPUT_DIRECTORY")
    main(sys.argv[1])
