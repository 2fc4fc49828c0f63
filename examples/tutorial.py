"""The classic PyTorch autograd tutorial, run unchanged on retrograd.

Only the import differs: ``import retrograd as torch``.
"""

import retrograd as torch
from retrograd.autograd import Variable

# Create a variable:
x = Variable(torch.ones(2, 2), requires_grad=True)
print(x)

# Do an operation of variable:
y = x + 2
print(y)

# y was created as a result of an operation, so it has a grad_fn.
print(y.grad_fn)

# Do more operations on y
z = y * y * 3
out = z.mean()
print(z, out)

# let's backprop now
out.backward()

# print gradients d(out)/dx
print(x.grad)

# You can do many crazy things with autograd!
x = torch.randn(3)
x = Variable(x, requires_grad=True)

y = x * 2
while y.data.norm() < 1000:
    y = y * 2

print(y)

gradients = torch.FloatTensor([0.1, 1.0, 0.0001])
y.backward(gradients)

print(x.grad)
