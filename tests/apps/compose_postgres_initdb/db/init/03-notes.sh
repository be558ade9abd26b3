#!/bin/sh
echo "a shell script: the image runs it, the preview does not"
