import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(__file__))
warnings.filterwarnings("ignore", message="The .grad attribute of a Tensor that is not a leaf")
