"""How a kernel row becomes an image: pixels, Fourier with decorrelated colour, bounded, MACO."""
