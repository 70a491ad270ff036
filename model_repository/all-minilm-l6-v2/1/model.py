"""Triton python-backend model running an exported embedding graph with ONNX Runtime on the CPU.

The exporter copies this file to `model_repository/<name>/1/model.py`; it runs inside Triton's
python stub (which imports `triton_python_backend_utils`), never inside Semantik itself.
"""

import json
import os

import numpy as np
import onnxruntime as ort
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        parameters = {key: value["string_value"] for key, value in config.get("parameters", {}).items()}
        path = os.path.join(
            args["model_repository"], args["model_version"], parameters.get("onnx_file", "model.onnx")
        )
        if not os.path.isfile(path):
            raise pb_utils.TritonModelException(
                f"{path} is missing: the ONNX weights are a build output, run `make models` "
                "(python scripts/export_model.py) to export them"
            )
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # 0 lets ONNX Runtime use every core; set it lower when Triton shares the machine.
        options.intra_op_num_threads = int(parameters.get("intra_op_threads", "0"))
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self.pad_id = int(parameters.get("pad_token_id", "0"))

    def execute(self, requests):
        # The dynamic batcher hands over several requests whose sequence lengths differ
        # (allow_ragged_batch): pad them to the longest and run them as one ONNX batch.
        responses = [None] * len(requests)
        ids, masks, rows = [], [], []
        for position, request in enumerate(requests):
            input_ids = pb_utils.get_input_tensor_by_name(request, "input_ids").as_numpy()
            attention_mask = pb_utils.get_input_tensor_by_name(request, "attention_mask").as_numpy()
            if input_ids.ndim != 2 or input_ids.shape != attention_mask.shape:
                responses[position] = pb_utils.InferenceResponse(
                    error=pb_utils.TritonError(
                        f"input_ids {input_ids.shape} and attention_mask {attention_mask.shape} "
                        "must both be [batch, sequence]"
                    )
                )
                continue
            ids.append(input_ids)
            masks.append(attention_mask)
            rows.append(position)

        if rows:
            width = max(array.shape[1] for array in ids)
            batch_ids = np.concatenate([self._pad(array, width, self.pad_id) for array in ids])
            batch_mask = np.concatenate([self._pad(array, width, 0) for array in masks])
            try:
                (embeddings,) = self.session.run(
                    ["embedding"],
                    {"input_ids": batch_ids.astype(np.int64), "attention_mask": batch_mask.astype(np.int64)},
                )
            except Exception as exc:  # one failed run must answer every request, not hang them
                error = pb_utils.TritonError(f"ONNX Runtime failed: {exc}")
                for position in rows:
                    responses[position] = pb_utils.InferenceResponse(error=error)
                return responses
            start = 0
            for position, array in zip(rows, ids, strict=True):
                stop = start + array.shape[0]
                output = pb_utils.Tensor(
                    "embedding", np.ascontiguousarray(embeddings[start:stop], dtype=np.float32)
                )
                responses[position] = pb_utils.InferenceResponse(output_tensors=[output])
                start = stop
        return responses

    @staticmethod
    def _pad(array, width, value):
        if array.shape[1] == width:
            return array
        return np.pad(array, ((0, 0), (0, width - array.shape[1])), constant_values=value)

    def finalize(self):
        self.session = None
