"""Files an app expects beside its code that its upload lacks, and which the service writes
before it starts (read from the upload, never run): the log files its logging opens in a
folder the upload does not have (:mod:`.logfiles`), the folders it writes in at run time
that its checkout had and its repository lacks, and its SQLite databases kept as Git LFS
pointers (:mod:`.rundirs`), the metadata of a project that reads its own installed version
(:mod:`.ownmetadata`), the key files (JWT signing keys) its code reads and its repository
leaves out (:mod:`.keyfiles`; a Node app's keys and certificates, and the icon its favicon
middleware serves: :mod:`.nodekeys`), and the locales it sets that this machine lacks,
compiled for it (:mod:`.locales`), and the imports that spell a module's name in another
case than its file has, corrected (:mod:`.importcase`), and the package that lets it import
its own folder by name (:mod:`.ownname`), and the preloads that stand in for the process
manager a Node app tells it is ready and for the platform terminating the HTTPS it serves
itself (:mod:`.managerready`), and the settings files a Flask app loads from its instance
folder, kept out of its repository, and a Django settings' local module
(:mod:`.instancefiles`), and a YAML or JSON settings file the code loads and reads by key,
with no example of it (:mod:`.configfiles`), and sequelize-cli's config file, kept out of
its repository (:mod:`.sequelizeconfig`), and the tsconfig of a Node app that emits
declarations, told to keep node_modules' link path, and one for a TypeScript app that
has none (:mod:`.tsconfigs`), and the package.json scripts calling ``npm bin``, which npm 9
removed, given what it printed (:mod:`.npmbin`)."""

from .configfiles import (
    node_settings_modules,
    readme_files,
    scripted_files,
    settings_files,
    settings_text,
)
from .importcase import case_corrections, python_case_copies, windows_only_imports
from .instancefiles import (
    CLASS_SETTINGS,
    LOCAL_DATABASES,
    PREVIEW_SETTINGS,
    PreviewSettings,
    django_local_names,
    django_local_settings,
    django_missing_settings,
    django_preview_settings,
    example_fill_ins,
    instance_files,
    instance_names,
    kept_out_module_names,
    local_names_text,
)
from .keyfiles import key_files, key_texts
from .locales import build_locales, missing_locales
from .logfiles import log_files
from .managerready import (
    MANAGER_READY_NAME,
    MANAGER_READY_PRELOAD,
    NODE_PRELOADS,
    PLAIN_HTTP_NAME,
    PLAIN_HTTP_PRELOAD,
    serves_https,
    tells_manager,
)
from .nodekeys import (
    FAVICON,
    node_key_files,
    node_key_texts,
    node_key_variables,
    service_account_text,
)
from .npmbin import npm_bin_scripts
from .ownmetadata import FLASK_COMMANDS, declared_entry_points, own_metadata
from .ownname import OWN_NAMES_DIR, own_name_packages
from .rundirs import (
    author_folders,
    case_named_folders,
    code_folders,
    container_folders,
    env_absolute_folders,
    image_app_folder,
    image_folders,
    lfs_pointer_databases,
    module_named_folders,
    root_named_folders,
    run_folders,
)
from .sequelizeconfig import sequelize_config_text, sequelize_configs
from .tsconfigs import declaration_links, missing_tsconfig

__all__ = [
    "CLASS_SETTINGS",
    "FAVICON",
    "FLASK_COMMANDS",
    "LOCAL_DATABASES",
    "MANAGER_READY_NAME",
    "MANAGER_READY_PRELOAD",
    "NODE_PRELOADS",
    "OWN_NAMES_DIR",
    "PLAIN_HTTP_NAME",
    "PLAIN_HTTP_PRELOAD",
    "PREVIEW_SETTINGS",
    "PreviewSettings",
    "author_folders",
    "build_locales",
    "case_corrections",
    "case_named_folders",
    "code_folders",
    "container_folders",
    "declaration_links",
    "declared_entry_points",
    "django_local_names",
    "django_local_settings",
    "django_missing_settings",
    "django_preview_settings",
    "env_absolute_folders",
    "example_fill_ins",
    "image_app_folder",
    "image_folders",
    "instance_files",
    "instance_names",
    "kept_out_module_names",
    "key_files",
    "key_texts",
    "lfs_pointer_databases",
    "local_names_text",
    "log_files",
    "missing_locales",
    "missing_tsconfig",
    "module_named_folders",
    "node_key_files",
    "node_key_texts",
    "node_key_variables",
    "node_settings_modules",
    "npm_bin_scripts",
    "own_metadata",
    "own_name_packages",
    "python_case_copies",
    "readme_files",
    "root_named_folders",
    "run_folders",
    "scripted_files",
    "sequelize_config_text",
    "sequelize_configs",
    "serves_https",
    "service_account_text",
    "settings_files",
    "settings_text",
    "tells_manager",
    "windows_only_imports",
]
