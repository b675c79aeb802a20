"""Sequential: a chain of layers that is itself a layer."""

from .base import Layer


class Sequential(Layer):
    """``Sequential(l0, l1, ...)``: ``forward`` runs them in order,
    ``backward`` in reverse. Parameters are named ``"<index>.<name>"``
    (``"0.W"``), as in PyTorch's ``state_dict``.

    ``backward(dy, param_grads=False)`` backpropagates through every layer
    without touching any gradient (the GAN generator step through D);
    ``input_grad=False`` skips only the first layer's input gradient.
    """

    def __init__(self, *layers):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential: item {i} is a {type(layer).__name__}, "
                                f"expected a Layer")
        self.layers = list(layers)

    _pending = ()

    def children(self):
        return self.layers

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dy, param_grads=True, input_grad=True):
        for i in range(len(self.layers) - 1, -1, -1):
            dy = self.layers[i].backward(dy, param_grads, input_grad or i > 0)
        return dy

    def jvp_forward(self, x, xt):
        for layer in self.layers:
            x, xt = layer.jvp_forward(x, xt)
        return x, xt

    def jvp_backward(self, dy, dyt, param_grads=True, input_grad=True):
        for i in range(len(self.layers) - 1, -1, -1):
            dy, dyt = self.layers[i].jvp_backward(dy, dyt, param_grads, input_grad or i > 0)
        return dy, dyt

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def __repr__(self):
        inner = "".join(f"\n  ({i}) {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential({inner}\n)"
