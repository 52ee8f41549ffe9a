from .merchant import Category, Merchant, MerchantQuerySet, MerchantStatus, pinyin_key
from .pages import MerchantDirectoryPage

__all__ = ["Category", "Merchant", "MerchantDirectoryPage", "MerchantQuerySet", "MerchantStatus", "pinyin_key"]
