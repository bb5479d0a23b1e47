from tests.contracts.hub_orders._helpers import DATASET, ManageAssetOrderContract


class TestManageDatasetOrder(ManageAssetOrderContract):
    KIND = DATASET
