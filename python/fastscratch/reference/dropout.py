"""The book's dropout: a mask drawn by the caller, no rescaling at training time."""


def dropout_forward_train(x, rand, ratio):
    mask = rand > ratio
    return x * mask, mask


def dropout_backward(dout, mask):
    return dout * mask
