"""vid-bench domain core: plain Python that Ray, Serve, Tune and the CLI build on."""

__version__ = "0.1.0"
