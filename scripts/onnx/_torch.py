"""Shared helpers of the ONNX fixture scripts: import torchvision even when its compiled ops do not
load (a CUDA build of torchvision beside a CPU torch: the model definitions need none of them), and
write tensors as ONNX TensorProto files (.pb) that the tests read with the repo's own ONNX reader."""
import os

import numpy as np
import torch


def import_torchvision():
    orig = torch.library.register_fake

    def tolerant(*args, **kwargs):
        try:
            dec = orig(*args, **kwargs)
        except Exception:  # the op library is missing: the fake kernel is not needed to build models
            return lambda f: f

        def wrap(f):
            try:
                return dec(f)
            except Exception:
                return f

        return wrap

    torch.library.register_fake = tolerant
    try:
        import torchvision
    finally:
        torch.library.register_fake = orig
    return torchvision


def write_pb(path, array, name):
    from onnx import numpy_helper

    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(np.ascontiguousarray(array), name).SerializeToString())
