"""Triton python-backend model running an exported graph (embedder or reranker) with ONNX Runtime on the CPU.

The exporter copies this file to `model_repository/<name>/1/model.py`; it runs inside Triton's
python stub (which imports `triton_python_backend_utils`), never inside Semantik itself, so it
imports nothing from Semantik. Inputs, output and tuning come from the model's config.pbtxt.
"""

import json
import os

import numpy as np
import onnxruntime as ort
import triton_python_backend_utils as pb_utils

# Requests merged by the dynamic batcher run as one ONNX batch only while padding them to a common
# width adds at most this share of tokens; otherwise they run in separate, tighter batches.
PADDING_SLACK = 1.25


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
        # Spinning threads busy-wait between runs and take the cores from Triton's own threads
        # (and, on a shared machine, from the clients preparing the next request).
        options.add_session_config_entry(
            "session.intra_op.allow_spinning", parameters.get("allow_spinning", "0")
        )
        options.log_severity_level = 3
        self.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self.inputs = [tensor["name"] for tensor in config["input"]]
        self.output = config["output"][0]["name"]
        self.pad_id = int(parameters.get("pad_token_id", "0"))

    def execute(self, requests):
        # The dynamic batcher hands over several requests whose sequence lengths differ
        # (allow_ragged_batch): similar widths are padded to the longest and run as one ONNX batch.
        responses = [None] * len(requests)
        arrived = []
        for position, request in enumerate(requests):
            arrays = [pb_utils.get_input_tensor_by_name(request, name).as_numpy() for name in self.inputs]
            shape = arrays[0].shape
            if len(shape) != 2 or any(array.shape != shape for array in arrays):
                shapes = ", ".join(f"{n} {a.shape}" for n, a in zip(self.inputs, arrays, strict=True))
                responses[position] = pb_utils.InferenceResponse(
                    error=pb_utils.TritonError(f"{shapes}: every input must be [batch, sequence] alike")
                )
                continue
            arrived.append((position, arrays))

        for group in self._groups(arrived):
            try:
                outputs = self._run(group)
            except Exception as exc:  # one failed run must answer its requests, not hang them
                error = pb_utils.TritonError(f"ONNX Runtime failed: {exc}")
                for position, _ in group:
                    responses[position] = pb_utils.InferenceResponse(error=error)
                continue
            start = 0
            for position, arrays in group:
                stop = start + arrays[0].shape[0]
                output = pb_utils.Tensor(
                    self.output, np.ascontiguousarray(outputs[start:stop], dtype=np.float32)
                )
                responses[position] = pb_utils.InferenceResponse(output_tensors=[output])
                start = stop
        return responses

    @staticmethod
    def _groups(arrived):
        """Requests in runs of similar width, so a long one does not make short ones pay for padding."""
        groups, group, rows, tokens = [], [], 0, 0
        for item in sorted(arrived, key=lambda item: item[1][0].shape[1]):
            batch, width = item[1][0].shape
            if group and (rows + batch) * width > PADDING_SLACK * (tokens + batch * width):
                groups.append(group)
                group, rows, tokens = [], 0, 0
            group.append(item)
            rows += batch
            tokens += batch * width
        if group:
            groups.append(group)
        return groups

    def _run(self, group):
        if len(group) == 1:
            feeds = dict(zip(self.inputs, group[0][1], strict=True))
        else:
            width = max(arrays[0].shape[1] for _, arrays in group)
            feeds = {}
            for index, name in enumerate(self.inputs):
                pad = self.pad_id if name == "input_ids" else 0
                feeds[name] = np.concatenate([self._pad(arrays[index], width, pad) for _, arrays in group])
        feeds = {name: array.astype(np.int64, copy=False) for name, array in feeds.items()}
        (outputs,) = self.session.run([self.output], feeds)
        return outputs

    @staticmethod
    def _pad(array, width, value):
        if array.shape[1] == width:
            return array
        return np.pad(array, ((0, 0), (0, width - array.shape[1])), constant_values=value)

    def finalize(self):
        self.session = None
