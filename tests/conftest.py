import os
import sys
import warnings

# Test the tree these tests live in, whatever else is installed.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "src"))
sys.path.insert(0, HERE)
warnings.filterwarnings("ignore", message="The .grad attribute of a Tensor that is not a leaf")
