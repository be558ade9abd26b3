def tag() -> str:
    return "from libs/common/src"
