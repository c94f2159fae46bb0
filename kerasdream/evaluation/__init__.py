"""Judging final 8-bit pictures: rank, robust rank, natural-photo ratio, flatness, noise."""
