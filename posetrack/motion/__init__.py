"""Motion out: the driven character's motion written to files (BVH, glTF animation) and
streamed live to other programs (the VMC protocol over OSC/UDP)."""
