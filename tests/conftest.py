import os
import sys
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("HELPERS_PROGRESS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

# tests/ holds shared test tools (nbtools); make them importable as top-level modules.
sys.path.insert(0, str(Path(__file__).resolve().parent))
